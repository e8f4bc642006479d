import Foundation
import NodeLab
import Testing

/// Protocol-independent request latency: redis-server in one lab pod, a raw-RESP client in
/// another sending exactly N PINGs one at a time and timing each itself. The kernel, with no
/// Redis parser, must count N requests on both sockets with latencies the client's own
/// measurement bounds.
@Suite(.serialized, rootOnly)
struct TCPLatencyTests {
    @Test func redisPingsAreCountedAndTimed() throws {
        try withLab(pods: 2) { _, pods in
            let (client, server) = (pods[0], pods[1])
            let port = freshPort()
            let redis = try server.spawn(["/usr/bin/redis-server", "--port", String(port), "--bind", server.ipv4,
                                          "--save", "", "--appendonly", "no", "--protected-mode", "no"])
            defer { _ = redis.terminate() }
            try L7Peers.waitForListener(in: client, ip: server.ipv4, port: port)
            let agent = try AgentRun()
            let n = 500
            let run = try client.check([Peers.python, "-c", """
                import socket, sys, time
                ip, port, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
                s = socket.create_connection((ip, port)); s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                total = 0; worst = 0
                for i in range(n):
                    t = time.perf_counter_ns()
                    s.sendall(b'*1\\r\\n$4\\r\\nPING\\r\\n')
                    got = b''
                    while not got.endswith(b'+PONG\\r\\n'): got += s.recv(64)
                    d = time.perf_counter_ns() - t; total += d; worst = max(worst, d)
                print(s.getsockname()[1], total, worst, flush=True)
                s.close()
                """, server.ipv4, String(port), String(n)])
            Thread.sleep(forTimeInterval: 1.5)
            let records = try agent.stop()

            let fields = run.stdout.split(separator: " ").compactMap { UInt64($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
            try #require(fields.count == 3, "client said: \(run.stdout)")
            let (clientPort, clientTotal, clientWorst) = (Int(fields[0]), fields[1], fields[2])
            let clientSide = records.filter {
                $0.kind == "tcp_latency" && $0.uint("netns") == client.netnsInode && $0.int("src_port") == clientPort
            }
            let serverSide = records.filter {
                $0.kind == "tcp_latency" && $0.uint("netns") == server.netnsInode && $0.int("dst_port") == clientPort
            }
            let cCount = clientSide.sum("req_count"), sCount = serverSide.sum("req_count")
            let cSum = clientSide.sum("req_latency_sum"), sSum = serverSide.sum("req_latency_sum")
            let cMax = clientSide.map { $0.uint("req_latency_max") }.max() ?? 0
            print("redis PINGs: \(n); tcp_latency req_count client \(cCount) server \(sCount); "
                  + "avg ns: python client \(clientTotal / UInt64(n)), kernel client \(cSum / max(1, cCount)), "
                  + "kernel server \(sSum / max(1, sCount)); max ns: python \(clientWorst), kernel client \(cMax)")
            #expect(cCount == UInt64(n), "\(clientSide)")
            #expect(sCount == UInt64(n), "\(serverSide)")
            // Inside the client's own send-to-reply time, and the server's inside the client's.
            #expect(cSum > 0 && cSum <= clientTotal)
            #expect(sSum > 0 && sSum <= cSum)
            #expect(cMax > 0 && cMax <= clientWorst)
            for r in clientSide {
                #expect(r.string("role") == "client" && r.string("comm") == "python3")
                #expect(r.string("dst_ip") == server.ipv4 && r.int("dst_port") == port)
                #expect(r.uint("cgroup_id") == client.cgroupID)
                #expect(r.uint("req_latency_p50") <= r.uint("req_latency_p99"))
                #expect(r.uint("req_latency_p99") <= r.uint("req_latency_max"))
                #expect(r.uint("req_latency_avg") <= r.uint("req_latency_max"))
            }
            for r in serverSide {
                #expect(r.string("role") == "server" && r.int("src_port") == port)
                #expect(r.uint("cgroup_id") == server.cgroupID)
            }
            #expect(records.lossTotal("tcp_latency_map_full") == 0)
        }
    }
}
