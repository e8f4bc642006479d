import Foundation
import NodeLab
import Testing

/// `pod_uid` on the records of processes in kubelet pod cgroups (both cgroup drivers' layouts),
/// with curl talking HTTP to nginx and dig asking dnsmasq in a lab pod; and the controller
/// naming a host-network pod, which shares its node's address, by that UID.
@Suite(.serialized, rootOnly)
struct PodUIDTests {
    /// One curl exchange from `client`'s network namespace, run in `cgroup`.
    private func curl(from client: Pod, to server: Pod, in cgroup: KubeletCgroupFixture.Cgroup) throws {
        let run = try client.check(L7Peers.curl([L7Peers.url(ip: server.ipv4, path: "/ok")]), cgroup: cgroup.path)
        #expect(run.stdout.hasPrefix("200"), "curl said: \(run.stdout)")
    }

    @Test func recordsOfAProcessInAPodCgroupCarryThatPodsUIDAndOthersNone() throws {
        try withLab(pods: 2) { lab, pods in
            let (client, server) = (pods[0], pods[1])
            let nginx = try L7Peers.runNginx(in: server, ip: server.ipv4, reachableFrom: client)
            defer { nginx.stop() }
            let dnsmasq = try L7Peers.runDnsmasq(in: server, ip: server.ipv4)
            defer { _ = dnsmasq.terminate() }
            // The agent starts before these cgroups exist: it has to find them by a rescan.
            let agent = try AgentRun()
            let cgroups = KubeletCgroupFixture()
            defer { cgroups.remove() }
            let systemd = try cgroups.systemdPod(under: lab.cgroup2Mount)
            let cgroupfs = try cgroups.cgroupfsPod(under: lab.cgroupRoot)
            let service = try cgroups.systemService(under: lab.cgroupRoot)
            for cgroup in [systemd, cgroupfs, service] {
                try curl(from: client, to: server, in: cgroup)
                let dig = try client.check(L7Peers.dig(server: server.ipv4, name: "a.svc.lab", type: "A"), cgroup: cgroup.path)
                #expect(L7Peers.digHeader(dig.stdout)?.status == "NOERROR", "dig said: \(dig.stdout)")
            }
            Thread.sleep(forTimeInterval: 0.4)
            let records = try agent.stop()

            for cgroup in [systemd, cgroupfs, service] {
                let mine = records.filter { $0.uint("cgroup_id") == cgroup.id }
                #expect(Set(mine.map(\.kind)).isSuperset(of: ["tcp", "http", "udp", "dns"]), "\(cgroup.path): \(mine)")
                // One query, one answer: the UDP flow of this dig and no other process's.
                let udp = mine.filter { $0.kind == "udp" }
                #expect(udp.sum("udp_tx_packets") == 1 && udp.sum("udp_rx_packets") == 1, "\(udp)")
                for r in mine {
                    #expect(r["pod_uid"] as? String == cgroup.podUID, "\(cgroup.path): \(r)")
                }
            }
            // nginx answers from the lab pod's own cgroup (kubepods/pod<uid>/<container>): three
            // exchanges counted in its aggregates, which carry the pod's UID like its exemplars.
            let served = records.aggregates("http_aggregate", cgroup: server.cgroupID, role: "server")
            #expect(served.aggregated == 3)
            let exemplars = records.filter { $0.uint("cgroup_id") == server.cgroupID && $0.kind == "http" }
            #expect(!exemplars.isEmpty)
            #expect((served + exemplars).allSatisfy { $0.string("pod_uid") == server.uid })
            #expect(agent.stderrText.contains("pod_uid from the pod cgroups under"), "\(agent.stderrText)")
        }
    }

    @Test func theControllerNamesTheHostNetworkPodByItsUID() throws {
        try withLab(pods: 2) { lab, pods in
            // Processes in `node`'s network namespace play the node's host network.
            let (node, server) = (pods[0], pods[1])
            let cgroups = KubeletCgroupFixture()
            defer { cgroups.remove() }
            let hostPod = try cgroups.systemdPod(under: lab.cgroup2Mount)
            let service = try cgroups.systemService(under: lab.cgroupRoot)
            let topology = NSTemporaryDirectory() + "netobs-topology-\(UUID().uuidString).json"
            defer { try? FileManager.default.removeItem(atPath: topology) }
            let file: [String: Any] = [
                "nodes": [["name": "lab-node", "ips": [node.ipv4]]],
                "pods": [
                    ["name": "node-exporter", "namespace": "monitoring", "uid": hostPod.podUID!, "ips": [node.ipv4],
                     "node": "lab-node", "host_network": true],
                    ["name": "web", "namespace": "test", "uid": server.uid, "ips": [server.ipv4, server.ipv6], "node": "lab-node"],
                ],
            ]
            try JSONSerialization.data(withJSONObject: file).write(to: URL(fileURLWithPath: topology))

            let d = try ControllerModeTests.Deployment(controllerArguments: ["--topology-file", topology])
            let nginx = try L7Peers.runNginx(in: server, ip: server.ipv4, reachableFrom: node)
            defer { nginx.stop() }
            let tail = try NetobsCLI(["tail", "--json", "--controller", "127.0.0.1:\(d.port)", "--certs", d.certs])
            let agent = try d.agent()
            try curl(from: node, to: server, in: hostPod)
            try curl(from: node, to: server, in: service)

            // Flow records (a process's own report, such as tls_unsupported for curl's GnuTLS, has no ends).
            let of = { (cgroup: KubeletCgroupFixture.Cgroup) in
                tail.records.filter { $0.uint("cgroup_id") == cgroup.id && $0.kind != "tls_unsupported" }
            }
            let complete = { (cgroup: KubeletCgroupFixture.Cgroup) in Set(of(cgroup).map(\.kind)).isSuperset(of: ["tcp", "http"]) }
            #expect(waitUntil(15) { complete(hostPod) && complete(service) }, "\(tail.stderrText)\n\(agent.stderrText)")
            for r in of(hostPod) {
                #expect(r.string("pod_uid") == hostPod.podUID)
                #expect(r.string("src_pod") == "node-exporter" && r.string("src_ns") == "monitoring", "\(r)")
                #expect(r.string("dst_pod") == "web" && r.string("dst_ns") == "test", "\(r)")
            }
            // Same address, no pod cgroup: the node itself.
            for r in of(service) {
                #expect(r["pod_uid"] == nil)
                #expect(r.string("src_pod") == "node:lab-node" && r.string("src_ns") == "", "\(r)")
                #expect(r.string("dst_pod") == "web", "\(r)")
            }
            _ = try agent.stop()
            tail.stop()
        }
    }
}
