import Foundation
import NodeLab
import Testing

/// Rules applied through the kernel's filter maps (`--rules FILE`, re-read at SIGHUP), with no
/// program reload needed for them to act.
@Suite(.serialized, rootOnly)
struct RulesTests {
    private func exchange(_ client: Pod, _ server: Pod, port: Int, bytes: Int) throws {
        let srv = try server.spawn(Peers.tcpServer(ip: server.ipv4, port: port, expect: bytes, reply: bytes))
        try srv.waitForOutput("ready")
        let cli = try client.spawn(Peers.tcpClient(ip: server.ipv4, port: port, send: bytes, expect: bytes))
        try cli.waitUntilExit(timeout: .seconds(30))
        try srv.waitUntilExit(timeout: .seconds(30))
    }

    private func rulesFile(_ json: String) throws -> String {
        let path = NSTemporaryDirectory() + "netobs-rules-\(UUID().uuidString).json"
        try json.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test func excludedPortsAreNotCollectedAndASighupSwitchesThem() throws {
        try withLab(pods: 2) { _, pods in
            let (client, server) = (pods[0], pods[1])
            let p1 = freshPort(), p2 = p1 + 1, sent = 300_000
            let file = try rulesFile(#"{"ports": {"mode": "exclude", "values": [\#(p1)]}}"#)
            defer { try? FileManager.default.removeItem(atPath: file) }
            let agent = try AgentRun(extraArguments: ["--rules", file])
            try exchange(client, server, port: p1, bytes: sent)
            try exchange(client, server, port: p2, bytes: sent)
            Thread.sleep(forTimeInterval: 0.3)

            try #"{"ports": {"mode": "exclude", "values": [\#(p2)]}}"#.write(toFile: file, atomically: true, encoding: .utf8)
            agent.send(SIGHUP)
            try agent.waitForStderr("rules applied from \(file): ports exclude \(p2)", timeout: 5)
            let afterHup = Date()
            try exchange(client, server, port: p1, bytes: sent * 2)
            try exchange(client, server, port: p2, bytes: sent * 2)
            Thread.sleep(forTimeInterval: 0.3)
            let records = try agent.stop()
            _ = afterHup

            let p1Records = records.toward(kind: "tcp", netns: client.netnsInode, port: p1)
                + records.local(kind: "tcp", netns: server.netnsInode, port: p1)
            let p2Records = records.toward(kind: "tcp", netns: client.netnsInode, port: p2)
                + records.local(kind: "tcp", netns: server.netnsInode, port: p2)
            // Before SIGHUP: P1 excluded, P2 exact. After: P2 excluded, P1 exact (only the new connection).
            #expect(p1Records.sum("tcp_tx_bytes") == UInt64(sent * 2) * 2, "\(p1Records)")
            #expect(p2Records.sum("tcp_tx_bytes") == UInt64(sent) * 2, "\(p2Records)")
            #expect(records.toward(kind: "tcp", netns: client.netnsInode, port: p2).sum("tcp_tx_bytes") == UInt64(sent))
            #expect(records.toward(kind: "tcp", netns: client.netnsInode, port: p1).sum("tcp_tx_bytes") == UInt64(sent * 2))
            #expect(agent.stderrText.contains("rules applied from \(file): ports exclude \(p1)"))
        }
    }

    /// The rules are in the kernel's maps before any program attaches: a connection busy while
    /// the agent starts is not adopted in the gap.
    @Test func aFlowBusyAtStartIsKeptOutByTheStartRules() throws {
        try withLab(pods: 2) { _, pods in
            let (client, server) = (pods[0], pods[1])
            let file = try rulesFile(#"{"cgroups": {"mode": "exclude", "values": [\#(client.cgroupID)]}}"#)
            defer { try? FileManager.default.removeItem(atPath: file) }
            let transfer = try PacedTransfer(from: client, to: server, chunks: 120)
            let agent = try AgentRun(extraArguments: ["--rules", file])
            #expect(transfer.isRunning, "the transfer must be busy while the agent starts")
            try transfer.finish()
            Thread.sleep(forTimeInterval: 0.3)
            let records = try agent.stop()
            let clientSide = records.toward(kind: "tcp", netns: client.netnsInode, port: transfer.port)
            #expect(clientSide.isEmpty, "the excluded pod's flow was collected: \(clientSide.first.map { "\($0)" } ?? "")")
            // The server end is in another pod: collected.
            #expect(records.local(kind: "tcp", netns: server.netnsInode, port: transfer.port).sum("tcp_rx_bytes") > 0)
        }
    }

    @Test func anExcludedPodIsNotCollected() throws {
        try withLab(pods: 3) { _, pods in
            let (excluded, kept, server) = (pods[0], pods[1], pods[2])
            let port = freshPort(), sent = 100_000
            let file = try rulesFile(#"{"cgroups": {"mode": "exclude", "values": [\#(excluded.cgroupID)]}}"#)
            defer { try? FileManager.default.removeItem(atPath: file) }
            let agent = try AgentRun(extraArguments: ["--rules", file])
            try exchange(excluded, server, port: port, bytes: sent)
            try exchange(kept, server, port: port + 1, bytes: sent)
            Thread.sleep(forTimeInterval: 0.3)
            let records = try agent.stop()
            // No record of any kind: the L7 programs (here: tcp_latency) apply the rule too.
            #expect(records.filter { $0.uint("cgroup_id") == excluded.cgroupID }.isEmpty,
                    "\(records.filter { $0.uint("cgroup_id") == excluded.cgroupID })")
            #expect(records.filter { $0.kind == "tcp" && $0.uint("netns") == excluded.netnsInode }.isEmpty)
            #expect(records.toward(kind: "tcp", netns: kept.netnsInode, port: port + 1).sum("tcp_tx_bytes") == UInt64(sent))
            // The server's side of the excluded pod's connection is in another pod: still collected.
            #expect(records.local(kind: "tcp", netns: server.netnsInode, port: port).sum("tcp_rx_bytes") == UInt64(sent))
        }
    }

    /// UDP datagrams are counted by the cgroup_skb programs under the same rules as before: an
    /// excluded pod's sockets are not collected, `l7: false` leaves UDP flows counted, and a
    /// SIGHUP to `protocols: [tcp]` keeps new UDP sockets out.
    @Test func udpFlowsFollowTheRules() throws {
        try withLab(pods: 3) { _, pods in
            let (excluded, kept, server) = (pods[0], pods[1], pods[2])
            let port = freshPort(), count = 10, size = 200
            let file = try rulesFile(#"{"cgroups": {"mode": "exclude", "values": [\#(excluded.cgroupID)]}, "l7": false}"#)
            defer { try? FileManager.default.removeItem(atPath: file) }
            let agent = try AgentRun(extraArguments: ["--rules", file])
            let echo = try server.spawn(Peers.udpEchoServer(ip: server.ipv4, port: port, count: 3 * count))
            try echo.waitForOutput("ready")
            for pod in [excluded, kept] {
                try pod.check(Peers.udpClient(ip: server.ipv4, port: port, count: count, size: size, connected: false))
            }
            try #"{"protocols": ["tcp"]}"#.write(toFile: file, atomically: true, encoding: .utf8)
            agent.send(SIGHUP)
            try agent.waitForStderr("rules applied from \(file): protocols tcp", timeout: 5)
            try kept.check(Peers.udpClient(ip: server.ipv4, port: port, count: count, size: size, connected: true))
            try echo.waitUntilExit(timeout: .seconds(10))
            Thread.sleep(forTimeInterval: 0.3)
            let records = try agent.stop()

            let bytes = UInt64(count * size)
            #expect(records.toward(kind: "udp", netns: excluded.netnsInode, port: port).isEmpty)
            let keptSide = records.toward(kind: "udp", netns: kept.netnsInode, port: port)
            #expect(keptSide.sum("udp_tx_bytes") == bytes, "only the socket opened before udp was turned off")
            #expect(keptSide.sum("udp_rx_bytes") == bytes)
            // The server's socket is not excluded: both peers of the first round, then kept out.
            let serverSide = records.local(kind: "udp", netns: server.netnsInode, port: port)
            #expect(serverSide.sum("udp_rx_bytes") == 2 * bytes, "\(serverSide)")
            #expect(Set(serverSide.map { $0.string("dst_ip") }) == [excluded.ipv4, kept.ipv4])
            #expect(records.lossTotal("udp_flow_map_full") == 0)
        }
    }
}
