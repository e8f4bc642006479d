import Foundation
import NodeLab
import Testing

/// The L7 programs' fast path for bulk connections (bpf/l7.bpf.c, struct l7_sock): after a
/// connection has carried a bulk transfer, its later exchanges must still be seen exactly as
/// on a connection that never did. Ground truth: the peers' own counts and requests.
@Suite(.serialized, rootOnly)
struct TCPLatencyAndHTTPAfterBulkTests {
    /// 1 MiB upload answered by "ok", then N ping/pong turns on the same connection, on a port
    /// no parser knows: every turn is a request on both sockets.
    @Test func tcpLatencyCountsEveryTurnAfterABulkUpload() throws {
        try withLab(pods: 2) { _, pods in
            let (client, server) = (pods[0], pods[1])
            let port = freshPort(), turns = 40
            let peer = try server.spawn([Peers.python, "-c", """
                import socket, sys
                s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                s.bind((sys.argv[1], int(sys.argv[2]))); s.listen(8)
                left = 1 << 20
                while left == 1 << 20:  # past the readiness probes: connections that send nothing
                    c, _ = s.accept(); c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                    left -= len(c.recv(65536))
                while left: left -= len(c.recv(min(left, 65536)))
                c.sendall(b'ok')
                for _ in range(int(sys.argv[3])):
                    got = b''
                    while len(got) < 4: got += c.recv(4 - len(got))
                    c.sendall(b'pong')
                c.recv(1)
                """, server.ipv4, String(port), String(turns)])
            defer { _ = peer.terminate() }
            try L7Peers.waitForListener(in: client, ip: server.ipv4, port: port)
            let agent = try AgentRun()
            let run = try client.check([Peers.python, "-c", """
                import socket, sys
                s = socket.create_connection((sys.argv[1], int(sys.argv[2])))
                s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                s.sendall(b'u' * (1 << 20))
                got = b''
                while len(got) < 2: got += s.recv(2)
                for _ in range(int(sys.argv[3])):
                    s.sendall(b'ping'); got = b''
                    while len(got) < 4: got += s.recv(4 - len(got))
                print(s.getsockname()[1], flush=True)
                s.close()
                """, server.ipv4, String(port), String(turns)])
            Thread.sleep(forTimeInterval: 1.5)
            let records = try agent.stop()

            let clientPort = try #require(Int(run.stdout.trimmingCharacters(in: .whitespacesAndNewlines)))
            let clientSide = records.filter {
                $0.kind == "tcp_latency" && $0.uint("netns") == client.netnsInode && $0.int("src_port") == clientPort
            }
            let serverSide = records.filter {
                $0.kind == "tcp_latency" && $0.uint("netns") == server.netnsInode && $0.int("dst_port") == clientPort
            }
            // The upload and its "ok" are the first request; each ping/pong one more.
            #expect(clientSide.sum("req_count") == UInt64(turns + 1), "\(clientSide)")
            #expect(serverSide.sum("req_count") == UInt64(turns + 1), "\(serverSide)")
            #expect(clientSide.allSatisfy { $0.string("role") == "client" && $0.string("comm") == "python3" })
            #expect(serverSide.allSatisfy { $0.string("role") == "server" })
            #expect(records.lossTotal("tcp_latency_map_full") == 0)
        }
    }

    /// HTTP/1.1 keep-alive on a port that says nothing of HTTP: a 2 MiB response, then N small
    /// exchanges on the same connection. Each must be a record on both sockets.
    @Test func httpOnAnUnusualPortIsParsedAfterABulkResponse() throws {
        try withLab(pods: 2) { _, pods in
            let (client, server) = (pods[0], pods[1])
            let port = freshPort(), small = 20
            let peer = try server.spawn([Peers.python, "-c", """
                import http.server, sys
                class Handler(http.server.BaseHTTPRequestHandler):
                    protocol_version = 'HTTP/1.1'
                    def do_GET(self):
                        body = b'x' * (2 << 20) if self.path == '/big' else b'small'
                        self.send_response(200)
                        self.send_header('Content-Length', str(len(body)))
                        self.end_headers()
                        self.wfile.write(body)
                    def log_message(self, *args): pass
                http.server.HTTPServer((sys.argv[1], int(sys.argv[2])), Handler).serve_forever()
                """, server.ipv4, String(port)])
            defer { _ = peer.terminate() }
            try L7Peers.waitForListener(in: client, ip: server.ipv4, port: port)
            let agent = try AgentRun()
            let run = try client.check([Peers.python, "-c", """
                import http.client, sys
                c = http.client.HTTPConnection(sys.argv[1], int(sys.argv[2]))
                c.request('GET', '/big'); r = c.getresponse(); assert len(r.read()) == 2 << 20
                for i in range(int(sys.argv[3])):
                    c.request('GET', f'/small?i={i}'); r = c.getresponse(); assert r.read() == b'small'
                print(c.sock.getsockname()[1], flush=True)
                c.close()
                """, server.ipv4, String(port), String(small)])
            Thread.sleep(forTimeInterval: 0.5)
            let records = try agent.stop()

            let clientPort = try #require(Int(run.stdout.trimmingCharacters(in: .whitespacesAndNewlines)))
            let expected = (["/big"] + (0..<small).map { "/small?i=\($0)" }).sorted()
            let clientSide = records.l7("http", netns: client.netnsInode).filter { $0.int("src_port") == clientPort }
            let serverSide = records.l7("http", netns: server.netnsInode).filter { $0.int("dst_port") == clientPort }
            #expect(clientSide.map { $0.string("http_request_uri") }.sorted() == expected, "\(agent.stderrText)")
            #expect(serverSide.map { $0.string("http_request_uri") }.sorted() == expected)
            #expect((clientSide + serverSide).allSatisfy { $0.int("http_status_code") == 200 })
        }
    }
}
