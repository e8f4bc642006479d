import Foundation
import NodeLab
import Testing

/// UDP bytes, datagrams and duration per (socket, peer), for connected and unconnected
/// sockets, against a Python echo peer that knows what it sent.
@Suite(.serialized, rootOnly)
struct UDPFlowTests {
    @Test(arguments: [(false, false), (false, true), (true, false), (true, true)])
    func datagramsAreCountedOnBothEnds(ipv6: Bool, connected: Bool) throws {
        try withLab(pods: 2) { _, pods in
            let (client, server) = (pods[0], pods[1])
            let port = freshPort(), count = 25, size = 321
            let agent = try AgentRun()
            let srv = try server.spawn(Peers.udpEchoServer(ip: server.address(ipv6: ipv6), port: port, count: count))
            try srv.waitForOutput("ready")
            let cli = try client.check(Peers.udpClient(ip: server.address(ipv6: ipv6), port: port, count: count,
                                                       size: size, connected: connected))
            #expect(cli.stdout.contains("done"))
            try srv.waitUntilExit(timeout: .seconds(10))
            Thread.sleep(forTimeInterval: 0.3)
            let records = try agent.stop()

            let total = UInt64(count * size)
            let clientSide = records.toward(kind: "udp", netns: client.netnsInode, port: port)
            let serverSide = records.local(kind: "udp", netns: server.netnsInode, port: port)
            try #require(!clientSide.isEmpty && !serverSide.isEmpty, "no records: \(agent.stderrText)")
            #expect(clientSide.sum("udp_tx_bytes") == total)
            #expect(clientSide.sum("udp_rx_bytes") == total)
            #expect(clientSide.sum("udp_tx_packets") == UInt64(count))
            #expect(serverSide.sum("udp_rx_bytes") == total)
            #expect(serverSide.sum("udp_tx_bytes") == total)
            #expect(serverSide.sum("udp_rx_packets") == UInt64(count))
            // The server's peer is the client, learned from recvfrom's address.
            #expect(serverSide.allSatisfy { $0.string("dst_ip") == client.address(ipv6: ipv6) })
            #expect(clientSide.allSatisfy { $0.string("dst_ip") == server.address(ipv6: ipv6) })
            #expect(clientSide.allSatisfy { $0.uint("cgroup_id") == client.cgroupID && $0.string("comm") == "python3" })
            #expect(serverSide.allSatisfy { $0.int("pid") == Int(srv.pid) && $0.uint("cgroup_id") == server.cgroupID })
            #expect((clientSide.last?.uint("udp_duration") ?? 0) > 0)
        }
    }

    /// A full flow map is counted, datagram by datagram: what the records lack is in the loss
    /// records (the node's own UDP traffic may take entries too, so the count is a lower bound).
    @Test func aFullFlowMapIsCounted() throws {
        try withLab(pods: 2) { _, pods in
            let (client, server) = (pods[0], pods[1])
            let port = freshPort(), sockets = 12, size = 50
            let agent = try AgentRun(extraArguments: ["--max-udp-flows", "4"])
            let srv = try server.spawn(Peers.udpEchoServer(ip: server.ipv4, port: port, count: sockets))
            try srv.waitForOutput("ready")
            for _ in 0..<sockets {
                try client.check(Peers.udpClient(ip: server.ipv4, port: port, count: 1, size: size, connected: true))
            }
            try srv.waitUntilExit(timeout: .seconds(10))
            Thread.sleep(forTimeInterval: 0.3)
            let records = try agent.stop()

            let flows = records.toward(kind: "udp", netns: client.netnsInode, port: port)
                + records.local(kind: "udp", netns: server.netnsInode, port: port)
            let recorded = ["udp_tx_packets", "udp_rx_packets"].reduce(UInt64(0)) { $0 + flows.sum($1) }
            let lost = records.lossTotal("udp_flow_map_full")
            #expect(recorded < UInt64(4 * sockets), "the map held \(recorded) datagrams' flows")
            #expect(recorded + lost >= UInt64(4 * sockets), "recorded \(recorded), counted lost \(lost)")
        }
    }
}
