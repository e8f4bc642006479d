import Foundation
import NodeLab
import Testing

/// HTTP/1.x exchanges parsed from the wire, against nginx answering curl and wrk in lab pods:
/// each exchange must be counted once on the client's socket and once on the server's, in the
/// aggregate of its method, URI, version and status; exemplar records come for the first
/// exchange of a key, errors, and the rules' sample.
@Suite(.serialized, rootOnly)
struct HTTPTests {
    /// (method, uri, version, status) of a record.
    private static func exchange(_ r: FlowRecord) -> String {
        "\(r.string("http_request_method")) \(r.string("http_request_uri")) \(r.string("http_request_version")) \(r.int("http_status_code"))"
    }

    @Test(arguments: [false, true])
    func curlExchangesMatchWhatWasSentAndAnswered(ipv6: Bool) throws {
        try withLab(pods: 2) { _, pods in
            let (client, server) = (pods[0], pods[1])
            let ip = server.address(ipv6: ipv6)
            let nginx = try L7Peers.runNginx(in: server, ip: ip, reachableFrom: client)
            defer { nginx.stop() }
            let agent = try AgentRun()

            let longQuery = "/ok?pad=" + String(repeating: "x", count: 200)
            // One connection, three exchanges (keep-alive); then one per run.
            let keepAlive = try client.check(L7Peers.curl(["/ok", "/missing", "/busy"].map { L7Peers.url(ip: ip, path: $0) }))
            let answers = keepAlive.stdout.split(separator: "\n").map { $0.split(separator: " ") }
            #expect(answers.map { $0.first ?? "" } == ["200", "404", "503"])
            let connections = answers.reduce(0) { $0 + (Int($1.last ?? "") ?? 0) }
            let http10 = try client.check(L7Peers.curl([L7Peers.url(ip: ip, path: "/missing")], extra: ["--http1.0"]))
            #expect(http10.stdout.hasPrefix("404"))
            let post = try client.check(L7Peers.curl([L7Peers.url(ip: ip, path: "/busy?x=1")], extra: ["-X", "POST", "-d", "a=b"]))
            #expect(post.stdout.hasPrefix("503"))
            try client.check(L7Peers.curl([L7Peers.url(ip: ip, path: "/ok?q=1")], extra: ["-I"]))
            try client.check(L7Peers.curl([L7Peers.url(ip: ip, path: longQuery)]))
            Thread.sleep(forTimeInterval: 0.4)
            let records = try agent.stop()

            let expected = [
                "GET /ok HTTP/1.1 200", "GET /missing HTTP/1.1 404", "GET /busy HTTP/1.1 503",
                "GET /missing HTTP/1.0 404", "POST /busy?x=1 HTTP/1.1 503", "HEAD /ok?q=1 HTTP/1.1 200",
                "GET \(longQuery.prefix(128)) HTTP/1.1 200",
            ]
            let clientSide = records.l7("http", netns: client.netnsInode)
            let serverSide = records.l7("http", netns: server.netnsInode)
            #expect(clientSide.map(Self.exchange).sorted() == expected.sorted(), "\(agent.stderrText)")
            #expect(serverSide.map(Self.exchange).sorted() == expected.sorted())

            for r in clientSide {
                #expect(r.string("role") == "client")
                #expect(r.string("src_ip") == client.address(ipv6: ipv6))
                #expect(r.string("dst_ip") == ip && r.int("dst_port") == 80)
                #expect(r.int("ip_version") == (ipv6 ? 6 : 4))
                #expect(r.uint("cgroup_id") == client.cgroupID)
                #expect(r.string("comm") == "curl")
                #expect(r.uint("http_duration") > 0)
                #expect(r.bool("http_request_uri_truncated") == r.string("http_request_uri").hasPrefix("/ok?pad="))
            }
            for r in serverSide {
                #expect(r.string("role") == "server")
                #expect(r.string("src_ip") == ip && r.int("src_port") == 80)
                #expect(r.uint("cgroup_id") == server.cgroupID)
                #expect(r.int("pid") == Int(nginx.process.pid))
                #expect(r.string("comm") == "nginx")
                #expect(r.uint("http_duration") > 0)
            }
            // The keep-alive exchanges came on as many client sockets as curl opened connections.
            let kept = clientSide.filter {
                ["/ok", "/missing", "/busy"].contains($0.string("http_request_uri")) && $0.string("http_request_version") == "HTTP/1.1"
            }
            #expect(connections < 3 && Set(kept.map { $0.int("src_port") }).count == connections)
            // The server answers before the client hears the answer.
            let clientTotal = clientSide.sum("http_duration"), serverTotal = serverSide.sum("http_duration")
            #expect(clientTotal >= serverTotal)
            // Each exchange was new to its key: a sample, or an error for the 503s.
            #expect((clientSide + serverSide).allSatisfy {
                $0.string("exemplar") == ($0.int("http_status_code") >= 500 ? "error" : "sample")
            })

            // The aggregates count the same exchanges, the URI text resolved from its id.
            let ones = Dictionary(uniqueKeysWithValues: expected.map { ($0, UInt64(1)) })
            let clientAggregates = records.aggregates("http_aggregate", cgroup: client.cgroupID, role: "client")
            let serverAggregates = records.aggregates("http_aggregate", cgroup: server.cgroupID, role: "server")
            #expect(clientAggregates.aggregateCounts == ones, "\(clientAggregates)")
            #expect(serverAggregates.aggregateCounts == ones)
            #expect((clientAggregates + serverAggregates).histogramsMatchCounts)
            #expect(clientAggregates.allSatisfy {
                $0.string("src_ip") == client.address(ipv6: ipv6) && $0.string("dst_ip") == ip && $0.int("dst_port") == 80
                    && $0["src_port"] == nil && $0.int("ip_version") == (ipv6 ? 6 : 4) && $0.uint("netns") == client.netnsInode
            })
            #expect(serverAggregates.allSatisfy { $0.string("src_ip") == ip && $0.int("src_port") == 80 && $0["dst_port"] == nil })
            #expect(clientAggregates.filter { $0.bool("http_request_uri_truncated") }.map { $0.string("http_request_uri") }
                == [String(longQuery.prefix(128))])
            #expect(clientAggregates.sum("http_duration_sum") == clientTotal)
        }
    }

    /// wrk sending exactly 2000 requests on one connection, the agent with `rules`.
    private func wrk(path: String, rules: String?, _ check: (Int, String, [FlowRecord], Pod, Pod) throws -> Void) throws {
        try withLab(pods: 2) { _, pods in
            let (client, server) = (pods[0], pods[1])
            let nginx = try L7Peers.runNginx(in: server, ip: server.ipv4, reachableFrom: client)
            defer { nginx.stop() }
            let script = try L7Peers.wrkScript(count: 2000)
            defer { try? FileManager.default.removeItem(at: script) }
            let file = try rules.map { try L7Peers.rulesFile($0) }
            defer { if let file { try? FileManager.default.removeItem(atPath: file) } }
            let agent = try AgentRun(extraArguments: file.map { ["--rules", $0] } ?? [])
            let run = try client.check(["wrk", "-t1", "-c1", "-d4s", "--latency", "-s", script.path,
                                        L7Peers.url(ip: server.ipv4, path: path)], timeout: .seconds(30))
            Thread.sleep(forTimeInterval: 0.4)
            let records = try agent.stop()
            let sent = try #require(L7Peers.wrkRequests(run.stdout), "wrk said: \(run.stdout)")
            #expect(sent > 0)
            #expect(records.lossTotal("l7_ringbuf_full") == 0)
            try check(sent, run.stdout, records, client, server)
        }
    }

    @Test func wrkRequestsAreCountedExactlyInAggregates() throws {
        try wrk(path: "/ok", rules: nil) { sent, _, records, client, server in
            let clientSide = records.aggregates("http_aggregate", cgroup: client.cgroupID, role: "client")
            let serverSide = records.aggregates("http_aggregate", cgroup: server.cgroupID, role: "server")
            let exemplars = records.l7("http", netns: client.netnsInode) + records.l7("http", netns: server.netnsInode)
            print("wrk requests: \(sent); aggregated: client \(clientSide.aggregated), server \(serverSide.aggregated); "
                  + "exemplars \(exemplars.count)")
            #expect(clientSide.aggregated == UInt64(sent))
            #expect(serverSide.aggregated == UInt64(sent))
            #expect(clientSide.aggregateCounts == ["GET /ok HTTP/1.1 200": UInt64(sent)])
            #expect(serverSide.aggregateCounts == ["GET /ok HTTP/1.1 200": UInt64(sent)])
            #expect((clientSide + serverSide).histogramsMatchCounts)
            // The default sample: the first of each key on each CPU, then 1 in 100 per CPU.
            let cpus = ProcessInfo.processInfo.activeProcessorCount
            #expect(exemplars.count >= 2 && exemplars.count <= 2 * (sent / 100 + cpus), "\(exemplars.count) exemplars")
            #expect(exemplars.allSatisfy { $0.string("exemplar") == "sample" })
        }
    }

    @Test func withEverySampledEachExchangeIsAnExemplarAgain() throws {
        try wrk(path: "/ok", rules: #"{"l7_sample_every": 1}"#) { sent, output, records, client, server in
            let clientSide = records.l7("http", netns: client.netnsInode)
            let serverSide = records.l7("http", netns: server.netnsInode)
            print("wrk requests: \(sent); http records: client \(clientSide.count), server \(serverSide.count)")
            #expect(clientSide.count == sent)
            #expect(serverSide.count == sent)
            #expect(clientSide.allSatisfy { $0.int("http_status_code") == 200 && $0.string("http_request_uri") == "/ok" })
            // Exemplars and aggregates are the same exchanges.
            let aggregates = records.aggregates("http_aggregate", cgroup: client.cgroupID, role: "client")
            #expect(aggregates.sum("http_duration_sum") == clientSide.sum("http_duration"))

            // Our http_duration against wrk's own latency distribution: within 20% or 100 µs.
            let ours = clientSide.map { Double($0.uint("http_duration")) }.sorted()
            for (percent, theirs) in L7Peers.wrkLatencyPercentiles(output) where percent <= 90 {
                let mine = ours[min(ours.count - 1, Int(Double(ours.count) * percent / 100))]
                print("p\(Int(percent)): wrk \(Int(theirs / 1000)) us, netobs \(Int(mine / 1000)) us")
                #expect(abs(mine - theirs) <= max(0.2 * theirs, 100_000), "p\(percent): wrk \(theirs) ns, ours \(mine) ns")
            }
        }
    }

    @Test func serverErrorsAreAlwaysExemplars() throws {
        try wrk(path: "/busy", rules: nil) { sent, _, records, client, server in
            let clientSide = records.l7("http", netns: client.netnsInode)
            let serverSide = records.l7("http", netns: server.netnsInode)
            print("wrk requests answered 503: \(sent); exemplars: client \(clientSide.count), server \(serverSide.count)")
            #expect(clientSide.count == sent && serverSide.count == sent)
            #expect((clientSide + serverSide).allSatisfy { $0.int("http_status_code") == 503 && $0.string("exemplar") == "error" })
            #expect(records.aggregates("http_aggregate", cgroup: server.cgroupID, role: "server").aggregateCounts
                == ["GET /busy HTTP/1.1 503": UInt64(sent)])
        }
    }

    /// A server that reads a request and resets the connection: the request is an exchange with
    /// no status on both sockets, counted and sent as an error exemplar.
    @Test func aResetBeforeTheAnswerIsAnExchangeWithNoStatus() throws {
        try withLab(pods: 2) { _, pods in
            let (client, server) = (pods[0], pods[1])
            let port = freshPort()
            let peer = try server.spawn([Peers.python, "-c", """
                import socket, struct, sys
                s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                s.bind((sys.argv[1], int(sys.argv[2]))); s.listen(8)
                while True:
                    c, _ = s.accept()
                    if not c.recv(4096): c.close(); continue  # readiness probes send nothing
                    c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack('ii', 1, 0))
                    c.close()  # with linger 0: a reset, no answer
                """, server.ipv4, String(port)])
            defer { _ = peer.terminate() }
            try L7Peers.waitForListener(in: client, ip: server.ipv4, port: port)
            let agent = try AgentRun()
            let run = try client.check([Peers.python, "-c", """
                import socket, sys
                c = socket.create_connection((sys.argv[1], int(sys.argv[2])))
                c.sendall(b'GET /hang HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n')
                try: print('answered' if c.recv(64) else 'closed')
                except ConnectionResetError: print('reset')
                """, server.ipv4, String(port)])
            #expect(run.stdout.contains("reset"), "client saw: \(run.stdout)")
            Thread.sleep(forTimeInterval: 0.4)
            let records = try agent.stop()

            for (pod, role) in [(client, "client"), (server, "server")] {
                let exemplars = records.l7("http", netns: pod.netnsInode)
                #expect(exemplars.map { "\($0.string("http_request_uri")) \($0.int("http_status_code")) \($0.string("exemplar"))" }
                    == ["/hang 0 error"], "\(role): \(exemplars)")
                #expect(records.aggregates("http_aggregate", cgroup: pod.cgroupID, role: role).aggregateCounts
                    == ["GET /hang HTTP/1.1 0": 1])
            }
        }
    }

    @Test func garbageOnPort80IsCountedNotRecorded() throws {
        try withLab(pods: 2) { _, pods in
            let (client, server) = (pods[0], pods[1])
            let nginx = try L7Peers.runNginx(in: server, ip: server.ipv4, reachableFrom: client)
            defer { nginx.stop() }
            let agent = try AgentRun()
            try client.check(L7Peers.garbage(ip: server.ipv4, port: 80, udp: false, count: 20))
            // The agent still parses what follows.
            try client.check(L7Peers.curl([L7Peers.url(ip: server.ipv4, path: "/ok")]))
            Thread.sleep(forTimeInterval: 0.4)
            let records = try agent.stop()

            print("http_unparsed total: \(records.lossTotal("http_unparsed")), "
                  + "http_response_unmatched: \(records.lossTotal("http_response_unmatched"))")
            // Seen leaving the client and arriving at the server: twice each.
            #expect(records.lossTotal("http_unparsed") >= 2 * 20)
            #expect(records.l7("http", netns: client.netnsInode).map { $0.string("http_request_uri") } == ["/ok"])
        }
    }

    @Test func aSplitRequestLineAndA64KiBURIAreCutNotFatal() throws {
        try withLab(pods: 2) { _, pods in
            let (client, server) = (pods[0], pods[1])
            let nginx = try L7Peers.runNginx(in: server, ip: server.ipv4, reachableFrom: client)
            defer { nginx.stop() }
            let agent = try AgentRun()
            // Two requests as nginx sees them: the line split over two segments, then a 64 KiB URI.
            let answers = try client.check(["/usr/bin/python3", "-c", """
                import socket, sys, time
                def ask(parts):
                    c = socket.create_connection((sys.argv[1], 80))
                    c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                    for p in parts:
                        c.sendall(p); time.sleep(0.05)
                    status = c.recv(64).split(b' ')[1].decode(); c.close(); return status
                print(ask([b'GET /split-req', b'uest HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n']))
                print(ask([b'GET /' + b'u' * 65536 + b' HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n']))
                """, server.ipv4]).stdout.split(separator: "\n").map(String.init)
            try client.check(L7Peers.curl([L7Peers.url(ip: server.ipv4, path: "/ok")]))
            Thread.sleep(forTimeInterval: 0.4)
            let records = try agent.stop()

            #expect(answers.count == 2)
            let clientSide = records.l7("http", netns: client.netnsInode)
            // Each request is recorded once with what nginx answered, its URI cut and flagged.
            #expect(clientSide.count == 3, "\(clientSide)")
            let split = clientSide.first { $0.string("http_request_uri").hasPrefix("/split-req") }
            #expect(split?.bool("http_request_uri_truncated") == true)
            #expect(split.map { String($0.int("http_status_code")) } == answers.first)
            let long = clientSide.first { $0.string("http_request_uri").hasPrefix("/uuuu") }
            #expect(long?.bool("http_request_uri_truncated") == true)
            #expect((long?.string("http_request_uri").utf8.count ?? 0) <= 128)
            #expect(long.map { String($0.int("http_status_code")) } == answers.last)
            // What follows is parsed as ever.
            #expect(clientSide.last?.string("http_request_uri") == "/ok")
            #expect(clientSide.last?.int("http_status_code") == 200)
        }
    }
}

