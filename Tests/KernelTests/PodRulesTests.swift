import Foundation
import NodeLab
import Testing

/// Rules by Kubernetes identity end to end: `netobs rules push` with a namespace selector, the
/// controller resolving it from its topology file into this node's pod UIDs, the real agent
/// turning those into the pods' cgroups; a pod moved into the namespace is followed.
@Suite(.serialized, rootOnly)
struct PodRulesTests {
    private func topology(_ pods: [(Pod, namespace: String)], nodes: [String] = ["lab-node"]) throws -> Data {
        try JSONSerialization.data(withJSONObject: [
            "nodes": nodes.map { ["name": $0, "ips": []] },
            "pods": pods.enumerated().map { i, entry in
                ["name": entry.0.name, "namespace": entry.namespace, "uid": entry.0.uid, "ips": [entry.0.ipv4, entry.0.ipv6],
                 "node": nodes[i % nodes.count]]
            },
        ] as [String: Any])
    }

    private func exchange(_ client: Pod, _ server: Pod, port: Int, bytes: Int) throws {
        let srv = try server.spawn(Peers.tcpServer(ip: server.ipv4, port: port, expect: bytes, reply: 1))
        try srv.waitForOutput("ready")
        try client.check(Peers.tcpClient(ip: server.ipv4, port: port, send: bytes, expect: 1))
        try srv.waitUntilExit(timeout: .seconds(30))
    }

    @Test func aNamespaceSelectorCollectsThatNamespacesPodsOnlyAndFollowsAPodMovedIntoIt() throws {
        try withLab(pods: 2) { _, pods in
            let (web, db) = (pods[0], pods[1])
            let file = NSTemporaryDirectory() + "netobs-topology-\(UUID().uuidString).json"
            defer { try? FileManager.default.removeItem(atPath: file) }
            try topology([(web, "shop"), (db, "infra")]).write(to: URL(fileURLWithPath: file))
            let d = try ControllerModeTests.Deployment(controllerArguments: ["--topology-file", file])
            let tail = try NetobsCLI(["tail", "--json", "--kind", "tcp", "--controller", "127.0.0.1:\(d.port)", "--certs", d.certs])
            defer { tail.stop() }
            let agent = try d.agent()

            let rules = d.dir + "/rules.yaml"
            try "pods: {mode: include, namespaces: [shop]}\n".write(toFile: rules, atomically: true, encoding: .utf8)
            let push = try NetobsCLI.run(["rules", "push", rules, "--wait"] + d.operatorFlags)
            #expect(push.status == 0, "\(push.stdout)\n\(push.stderr)")
            #expect(push.stdout.contains("lab-node: applied"), "\(push.stdout)")
            try agent.waitForStderr("1 selected pods of this node have", timeout: 10)

            // Only the shop pod's end of the connection is collected, with every byte its client sent.
            let port = freshPort(), sent = 150_000
            try exchange(web, db, port: port, bytes: sent)
            let ends = { (pod: Pod) in tail.records.filter { $0.uint("cgroup_id") == pod.cgroupID && ($0.int("dst_port") == port || $0.int("src_port") == port) } }
            #expect(waitUntil(10) { ends(web).sum("tcp_tx_bytes") == UInt64(sent) }, "\(agent.stderrText)")
            Thread.sleep(forTimeInterval: 1.0)
            #expect(ends(db).isEmpty, "the infra pod is not selected: \(ends(db))")

            // db moves into shop: the controller sees the file change and re-sends version 1 with both UIDs.
            try topology([(web, "shop"), (db, "shop")]).write(to: URL(fileURLWithPath: file))
            try agent.waitForStderr("2 selected pods of this node have", timeout: 15)
            let port2 = port + 1
            try exchange(web, db, port: port2, bytes: sent * 2)
            let ends2 = { (pod: Pod) in tail.records.filter { $0.uint("cgroup_id") == pod.cgroupID && ($0.int("dst_port") == port2 || $0.int("src_port") == port2) } }
            #expect(waitUntil(10) { ends2(db).sum("tcp_rx_bytes") == UInt64(sent * 2) && ends2(web).sum("tcp_tx_bytes") == UInt64(sent * 2) },
                    "\(agent.stderrText)")
            #expect(d.controller.stderrText.contains("rules version 1 follow the pods on node lab-node: 2 selected now"))
            let me = try d.agentsJSON().first { $0["node"] as? String == "lab-node" }
            #expect((me?["rules_version"] as? NSNumber)?.intValue == 1)
            _ = try agent.stop()
        }
    }

    /// Two agents on one machine play two nodes: each sees every packet, but the topology puts
    /// one pod on each node, so each agent collects its own node's pod only.
    @Test func twoNodesEachCollectTheSelectedPodsOnThatNode() throws {
        try withLab(pods: 2) { _, pods in
            let (web, db) = (pods[0], pods[1])
            let file = NSTemporaryDirectory() + "netobs-topology-\(UUID().uuidString).json"
            defer { try? FileManager.default.removeItem(atPath: file) }
            try topology([(web, "shop"), (db, "shop")], nodes: ["lab-a", "lab-b"]).write(to: URL(fileURLWithPath: file))
            let d = try ControllerModeTests.Deployment(controllerArguments: ["--topology-file", file])
            let tail = try NetobsCLI(["tail", "--json", "--kind", "tcp", "--controller", "127.0.0.1:\(d.port)", "--certs", d.certs])
            defer { tail.stop() }
            let a = try d.agent(node: "lab-a"), b = try d.agent(node: "lab-b")

            let rules = d.dir + "/rules.yaml"
            try "pods: {mode: include, namespaces: [shop]}\n".write(toFile: rules, atomically: true, encoding: .utf8)
            let push = try NetobsCLI.run(["rules", "push", rules, "--wait"] + d.operatorFlags)
            #expect(push.stdout.contains("lab-a: applied") && push.stdout.contains("lab-b: applied"), "\(push.stdout)\n\(push.stderr)")
            for agent in [a, b] { try agent.waitForStderr("1 selected pods of this node have", timeout: 10) }

            let port = freshPort(), sent = 120_000
            try exchange(web, db, port: port, bytes: sent)
            let of = { (node: String) in
                tail.records.filter { $0.string("node") == node && ($0.int("dst_port") == port || $0.int("src_port") == port) }
            }
            #expect(waitUntil(10) { of("lab-a").sum("tcp_tx_bytes") == UInt64(sent) && of("lab-b").sum("tcp_rx_bytes") == UInt64(sent) },
                    "\(a.stderrText)\n\(b.stderrText)")
            Thread.sleep(forTimeInterval: 1.0)
            #expect(of("lab-a").allSatisfy { $0.uint("cgroup_id") == web.cgroupID }, "\(of("lab-a"))")
            #expect(of("lab-b").allSatisfy { $0.uint("cgroup_id") == db.cgroupID }, "\(of("lab-b"))")
            _ = try a.stop()
            _ = try b.stop()
        }
    }
}
