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
}
