import Foundation
import NodeLab
import Testing

/// L4 TCP metrics against real traffic between lab pods, with the peers as ground truth.
@Suite(.serialized, rootOnly)
struct TCPFlowTests {
    @Test(arguments: [false, true])
    func bytesEachWayAreExactOnBothEnds(ipv6: Bool) throws {
        try withLab(pods: 2) { _, pods in
            let (client, server) = (pods[0], pods[1])
            let port = freshPort(), sent = 1_234_567, answered = 765_432
            let agent = try AgentRun()
            let srv = try server.spawn(Peers.tcpServer(ip: server.address(ipv6: ipv6), port: port, expect: sent, reply: answered))
            try srv.waitForOutput("ready")
            let cli = try client.spawn(Peers.tcpClient(ip: server.address(ipv6: ipv6), port: port, send: sent, expect: answered))
            try cli.waitUntilExit(timeout: .seconds(30))
            try srv.waitUntilExit(timeout: .seconds(30))
            #expect(cli.stdoutString.contains("got \(answered)"))
            Thread.sleep(forTimeInterval: 0.3)
            let records = try agent.stop()

            let clientSide = records.toward(kind: "tcp", netns: client.netnsInode, port: port)
            let serverSide = records.local(kind: "tcp", netns: server.netnsInode, port: port)
            try #require(!clientSide.isEmpty && !serverSide.isEmpty, "no records: \(agent.stderrText)")
            #expect(clientSide.sum("tcp_tx_bytes") == UInt64(sent))
            #expect(clientSide.sum("tcp_rx_bytes") == UInt64(answered))
            #expect(serverSide.sum("tcp_tx_bytes") == UInt64(answered))
            #expect(serverSide.sum("tcp_rx_bytes") == UInt64(sent))

            // Owner: the process and the pod (cgroup) that own each socket.
            for r in clientSide {
                #expect(r.int("pid") == Int(cli.pid))
                #expect(r.string("comm") == "python3")
                #expect(r.uint("cgroup_id") == client.cgroupID)
                #expect(r.string("role") == "client")
                #expect(r.int("ip_version") == (ipv6 ? 6 : 4))
                #expect(r.string("src_ip") == client.address(ipv6: ipv6))
                #expect(r.string("dst_ip") == server.address(ipv6: ipv6))
                #expect(r.string("node") == "lab-node")
            }
            for r in serverSide {
                #expect(r.int("pid") == Int(srv.pid))
                #expect(r.uint("cgroup_id") == server.cgroupID)
                #expect(r.string("role") == "server")
                #expect(r.string("src_ip") == server.address(ipv6: ipv6))
                #expect(r.string("dst_ip") == client.address(ipv6: ipv6))
            }
        }
    }

    @Test func aConnectionsLifeAppearsAsStateTransitions() throws {
        try withLab(pods: 2) { _, pods in
            let (client, server) = (pods[0], pods[1])
            let port = freshPort()
            let agent = try AgentRun()
            let srv = try server.spawn(Peers.tcpServer(ip: server.ipv4, port: port, expect: 10, reply: 10))
            try srv.waitForOutput("ready")
            try client.check(Peers.tcpClient(ip: server.ipv4, port: port, send: 10, expect: 10))
            try srv.waitUntilExit(timeout: .seconds(10))
            Thread.sleep(forTimeInterval: 0.3)
            let records = try agent.stop()

            let clientPath = records.toward(kind: "tcp", netns: client.netnsInode, port: port).transitions
            #expect(Array(clientPath.prefix(3)) == ["CLOSE>SYN_SENT", "SYN_SENT>ESTABLISHED", "ESTABLISHED>FIN_WAIT1"])
            #expect(clientPath.last?.hasSuffix(">CLOSE") == true)
            let serverPath = records.local(kind: "tcp", netns: server.netnsInode, port: port).transitions
            #expect(Array(serverPath.prefix(3)) == ["LISTEN>SYN_RECV", "SYN_RECV>ESTABLISHED", "ESTABLISHED>CLOSE_WAIT"])
            #expect(serverPath.last == "LAST_ACK>CLOSE")
            for path in [clientPath, serverPath] {
                // Each transition starts where the previous one ended.
                for (a, b) in zip(path, path.dropFirst()) {
                    #expect(a.split(separator: ">").last == b.split(separator: ">").first, "\(path)")
                }
            }
            let established = records.toward(kind: "tcp", netns: client.netnsInode, port: port)
                .first { $0.string("tcp_old_state") == "SYN_SENT" }
            #expect((established?.uint("tcp_old_state_duration") ?? 0) > 0, "time spent in SYN_SENT")
            let closed = records.toward(kind: "tcp", netns: client.netnsInode, port: port).last
            #expect(closed?.bool("tcp_closed") == true)
            #expect((closed?.uint("tcp_span_time") ?? 0) > 0)
        }
    }

    @Test func aConnectToAClosedPortIsAFailedConnection() throws {
        try withLab(pods: 2) { _, pods in
            let (client, server) = (pods[0], pods[1])
            let port = freshPort()
            let agent = try AgentRun()
            let result = try client.check(Peers.tcpConnectOnce(ip: server.ipv4, port: port))
            #expect(result.stdout.contains("ECONNREFUSED"))
            Thread.sleep(forTimeInterval: 0.3)
            let records = try agent.stop().toward(kind: "tcp", netns: client.netnsInode, port: port)
            #expect(records.transitions == ["CLOSE>SYN_SENT", "SYN_SENT>CLOSE"])
            #expect(records.last?.bool("tcp_connect_failed") == true)
            #expect(records.last?.string("tcp_error") == "ECONNREFUSED")
            #expect(records.last.map { $0.int("src_port") > 0 } == true, "the port connect() picked")
        }
    }
}
