import Foundation
import NodeLab
import Testing

/// HTTP/2 inside TLS: curl multiplexing many streams on one connection to nginx (http2 on, by
/// ALPN). Every stream must come once on each end with its own :method, :path and :status,
/// `http_request_version: "HTTP/2"` and `http_tls: true`: a mix-up of streams would pair a
/// path with another's status.
@Suite(.serialized, rootOnly)
struct HTTP2Tests {
    private static func exchange(_ r: FlowRecord) -> String {
        "\(r.string("http_request_method")) \(r.string("http_request_uri")) \(r.string("http_request_version")) \(r.int("http_status_code"))"
    }

    @Test func curlParallelStreamsOverTLSAreEachRecordedOnce() throws {
        let features = try AgentFeatures.read()
        guard (features["uprobes"] as? [String: Any])?["available"] as? Bool == true else {
            print("skipped: this host has no uprobes (program type kprobe or CONFIG_UPROBES missing)")
            return
        }
        try TLSPeers.withNginx { client, server, ip, nginx in
            let agent = try AgentRun()
            // 60 streams: each path's status is known from its name.
            let paths = (0..<60).map { i in ["/ok?i=\(i)", "/missing?i=\(i)", "/busy?i=\(i)"][i % 3] }
            let status = ["ok": 200, "missing": 404, "busy": 503]
            let run = try client.check(TLSPeers.curl(paths.map { TLSPeers.url(ip: ip, path: $0) }, ca: nginx.certificate,
                                                     extra: ["--http2", "--parallel", "--parallel-max", "30"]))
            let lines = run.stdout.split(separator: "\n").map { $0.split(separator: " ") }
            #expect(lines.count == paths.count)
            #expect(lines.allSatisfy { $0.count == 3 && $0[2] == "2" }, "not all HTTP/2: \(run.stdout)")
            #expect(lines.reduce(0) { $0 + (Int($1[1]) ?? 0) } == 1, "one connection: \(run.stdout)")
            // HEAD and POST streams too, on another connection.
            try client.check(TLSPeers.curl([TLSPeers.url(ip: ip, path: "/ok?head=1")], ca: nginx.certificate, extra: ["--http2", "-I"]))
            try client.check(TLSPeers.curl([TLSPeers.url(ip: ip, path: "/busy?post=1")], ca: nginx.certificate,
                                           extra: ["--http2", "-X", "POST", "-d", "a=b"]))
            Thread.sleep(forTimeInterval: 0.5)
            let records = try agent.stop()

            let expected = paths.map { p in
                "GET \(p) HTTP/2 \(status[String(p.dropFirst().prefix { $0 != "?" })]!)"
            } + ["HEAD /ok?head=1 HTTP/2 200", "POST /busy?post=1 HTTP/2 503"]
            let tls = records.filter { $0.kind == "http" && $0.bool("http_tls") }
            let clientSide = tls.filter { $0.uint("netns") == client.netnsInode }
            let serverSide = tls.filter { $0.uint("netns") == server.netnsInode }
            #expect(clientSide.map(Self.exchange).sorted() == expected.sorted(), "\(agent.stderrText)")
            #expect(serverSide.map(Self.exchange).sorted() == expected.sorted())
            #expect(records.lossTotal("http2_undecodable") == 0)
            for (side, portField) in [(clientSide, "src_port"), (serverSide, "dst_port")] {
                // One stream id per exchange on the multiplexed connection.
                let multiplexed = side.filter { $0.string("http_request_uri").contains("?i=") }
                #expect(Set(multiplexed.map { $0.int("http_stream_id") }).count == paths.count)
                #expect(Set(multiplexed.map { $0.int(portField) }).count == 1)
                #expect(side.allSatisfy { $0.uint("http_duration") > 0 })
            }
            #expect(clientSide.allSatisfy { $0.string("role") == "client" && $0.string("comm") == "curl" && $0.int("dst_port") == 443 })
            #expect(serverSide.allSatisfy { $0.string("role") == "server" && $0.int("pid") == Int(nginx.process.pid) })
        }
    }
}

/// HTTP/2 in cleartext with prior knowledge (h2c): the L7 programs pass the connection's
/// bytes on from its client preface; the agent parses frames and HPACK as for TLS.
@Suite(.serialized, rootOnly)
struct H2CTests {
    /// curl 7.88 (Debian 12) cannot reuse an h2c connection (its second stream fails with a
    /// framing error, without any observer) nor POST over h2c to nginx 1.22 (stream error): one
    /// GET or HEAD stream per curl run here, many streams per connection in the gRPC test below.
    @Test func curlPriorKnowledgeExchangesAreRecordedOnBothEnds() throws {
        try TLSPeers.withNginx { client, server, ip, nginx in
            let agent = try AgentRun()
            let runs: [(String, [String], String)] = [
                ("/ok?c=1", [], "GET /ok?c=1 HTTP/2 200"), ("/missing?c=2", [], "GET /missing?c=2 HTTP/2 404"),
                ("/busy?c=3", [], "GET /busy?c=3 HTTP/2 503"), ("/ok?c=4", ["-I"], "HEAD /ok?c=4 HTTP/2 200"),
            ]
            for (path, extra, _) in runs {
                let run = try client.check(TLSPeers.curl([TLSPeers.url(ip: ip, path: path, scheme: "http", port: 8080)],
                                                         ca: nginx.certificate, extra: ["--http2-prior-knowledge"] + extra))
                #expect(run.stdout.hasSuffix(" 1 2\n"), "\(run.stdout)")
            }
            Thread.sleep(forTimeInterval: 0.5)
            let records = try agent.stop()

            let expected = runs.map(\.2).sorted()
            let h2 = records.filter { $0.kind == "http" && $0.string("http_request_version") == "HTTP/2" }
            let clientSide = h2.filter { $0.uint("netns") == client.netnsInode }
            let serverSide = h2.filter { $0.uint("netns") == server.netnsInode }
            #expect(clientSide.map(H2CTests.line).sorted() == expected, "\(agent.stderrText)")
            #expect(serverSide.map(H2CTests.line).sorted() == expected,
                    "\(records.filter { $0.kind == "loss" || ($0.kind == "http" && $0.uint("netns") == server.netnsInode) })")
            #expect(h2.allSatisfy { !$0.bool("http_tls") && $0.uint("http_duration") > 0 })
            #expect(clientSide.allSatisfy { $0.string("role") == "client" && $0.int("dst_port") == 8080
                && $0.string("comm") == "curl" && $0.uint("cgroup_id") == client.cgroupID })
            #expect(serverSide.allSatisfy { $0.string("role") == "server" && $0.int("src_port") == 8080
                && $0.int("pid") == Int(nginx.process.pid) && $0.uint("cgroup_id") == server.cgroupID })
            #expect(records.lossTotal("h2c_undecodable") == 0)
            // The preface was not taken for an HTTP/1.x message that did not parse.
            #expect(records.lossTotal("http_unparsed") == 0)
        }
    }

    /// grpcio over h2c: 40 calls at once on one connection (concurrent streams), OK and error
    /// statuses: every stream's record on each end with its own grpc_status.
    @Test func grpcConcurrentStreamsOverH2CCarryTheirOwnStatus() throws {
        try #require(GRPCPeers.available, "python3-grpcio is missing: run scripts/setup.sh")
        try withLab(pods: 2) { _, pods in
            let (client, server) = (pods[0], pods[1])
            let ip = server.ipv4, port = 50052
            let agent = try AgentRun()
            let peer = try server.spawn(GRPCPeers.server(ip: ip, port: port, cert: nil, key: nil))
            defer { _ = peer.terminate() }
            try peer.waitForOutput("serving", timeout: .seconds(20))
            let methods = (0..<40).map { ["Say", "Missing", "Say", "Boom"][$0 % 4] }
            let run = try client.check(GRPCPeers.concurrentClient(ip: ip, port: port, methods: methods))
            let codes = run.stdout.split(separator: "\n").compactMap { Int($0) }
            let expectedCodes = methods.map { ["Say": 0, "Missing": 5, "Boom": 2][$0]! }
            #expect(codes == expectedCodes)
            Thread.sleep(forTimeInterval: 0.5)
            let records = try agent.stop()

            let expected = zip(methods, codes).map { "POST /lab.Echo/\($0) HTTP/2 200 lab.Echo \($0) \($1)" }.sorted()
            let grpc = records.filter { $0.kind == "http" && $0["grpc_service"] != nil && !$0.bool("http_tls") }
            let clientSide = grpc.filter { $0.uint("netns") == client.netnsInode }
            let serverSide = grpc.filter { $0.uint("netns") == server.netnsInode }
            #expect(clientSide.map(GRPCTests.line).sorted() == expected, "\(agent.stderrText)")
            #expect(serverSide.map(GRPCTests.line).sorted() == expected)
            #expect(Set(clientSide.map { $0.int("src_port") }).count == 1, "one connection")
            #expect(Set(clientSide.map { $0.int("http_stream_id") }).count == methods.count)
            #expect(clientSide.allSatisfy { $0.string("role") == "client" && $0.int("dst_port") == port })
            #expect(serverSide.allSatisfy { $0.string("role") == "server" && $0.int("src_port") == port })
            #expect(records.lossTotal("h2c_undecodable") == 0)
        }
    }

    static func line(_ r: FlowRecord) -> String {
        "\(r.string("http_request_method")) \(r.string("http_request_uri")) \(r.string("http_request_version")) \(r.int("http_status_code"))"
    }
}

/// gRPC over TLS between real grpcio peers (C-core runs OpenSSL over memory BIOs: the socket
/// comes from the syscalls the same thread makes around the SSL calls): every call once on
/// each end, service and method from the path, grpc_status from the trailers, exact.
@Suite(.serialized, rootOnly)
struct GRPCTests {
    @Test func grpcCallsOverTLSCarryServiceMethodAndStatus() throws {
        let features = try AgentFeatures.read()
        guard (features["uprobes"] as? [String: Any])?["available"] as? Bool == true else {
            print("skipped: this host has no uprobes (program type kprobe or CONFIG_UPROBES missing)")
            return
        }
        try #require(GRPCPeers.available, "python3-grpcio is missing: run scripts/setup.sh")
        try withLab(pods: 2) { _, pods in
            let (client, server) = (pods[0], pods[1])
            let ip = server.ipv4, port = 50051
            let dir = FileManager.default.temporaryDirectory.appendingPathComponent("netobs-grpc-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: dir) }
            try TLSPeers.makeCertificate(in: dir, ip: ip)
            let cert = dir.appendingPathComponent("cert.pem").path, key = dir.appendingPathComponent("key.pem").path
            let agent = try AgentRun()
            let peer = try server.spawn(GRPCPeers.server(ip: ip, port: port, cert: cert, key: key))
            defer { _ = peer.terminate() }
            try peer.waitForOutput("serving", timeout: .seconds(20))
            let methods = ["Say", "Say", "Missing", "Say", "Boom", "Missing", "Say"]
            let run = try client.check(GRPCPeers.client(ip: ip, port: port, cert: cert, methods: methods))
            let codes = run.stdout.split(separator: "\n").compactMap { Int($0) }
            #expect(codes == [0, 0, 5, 0, 2, 5, 0])
            Thread.sleep(forTimeInterval: 0.5)
            let records = try agent.stop()

            let expected = zip(methods, codes).map { "POST /lab.Echo/\($0) HTTP/2 200 lab.Echo \($0) \($1)" }.sorted()
            let grpc = records.filter { $0.kind == "http" && $0.bool("http_tls") && $0["grpc_service"] != nil }
            let clientSide = grpc.filter { $0.string("role") == "client" }
            let serverSide = grpc.filter { $0.string("role") == "server" }
            #expect(clientSide.map(Self.line).sorted() == expected, "\(agent.stderrText)\n\(grpc)")
            #expect(serverSide.map(Self.line).sorted() == expected)
            #expect(clientSide.allSatisfy { $0.uint("netns") == client.netnsInode && $0.int("dst_port") == port
                && $0.string("dst_ip") == ip && $0.uint("cgroup_id") == client.cgroupID })
            #expect(serverSide.allSatisfy { $0.uint("netns") == server.netnsInode && $0.int("src_port") == port
                && $0.int("pid") == Int(peer.pid) })
            #expect(records.lossTotal("http2_undecodable") == 0)
        }
    }

    static func line(_ r: FlowRecord) -> String {
        "\(r.string("http_request_method")) \(r.string("http_request_uri")) \(r.string("http_request_version")) "
            + "\(r.int("http_status_code")) \(r.string("grpc_service")) \(r.string("grpc_method")) \(r.int("grpc_status"))"
    }
}
