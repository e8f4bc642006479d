import Foundation
import NetobsAgent
import NetobsRecords
import NodeLab
import Testing

/// The L7 collector in this process (attached to the cgroup root), with curl and nginx in lab
/// pods: the exemplar cap, the URI bound of the aggregates, exemplar rules applied at run time
/// with no reload, and a full aggregate map. In each, every exchange is counted exactly once in
/// the aggregates, and what is cut or folded is counted.
@Suite(.serialized, rootOnly)
struct L7RecordCapKernelTests {
    /// nginx in one lab pod, curl in the other, a collector with `options` changed by `configure`.
    private func withCollector(_ configure: (inout L7Collector.Options) -> Void,
                               _ body: (L7Collector, Pod, Pod) throws -> Void) throws {
        try withLab(pods: 2) { _, pods in
            let (client, server) = (pods[0], pods[1])
            let nginx = try L7Peers.runNginx(in: server, ip: server.ipv4, reachableFrom: client)
            defer { nginx.stop() }
            let root = try #require(CgroupMount.v2Root())
            var options = L7Collector.Options(node: "lab", cgroupRoot: root)
            configure(&options)
            let collector = try L7Collector(options: options, context: RecordContext(node: "lab", monotonicToUnixNs: 0))
            defer { collector.close() }
            _ = try collector.flush() // whatever came before the traffic
            try body(collector, client, server)
        }
    }

    private func u(_ r: Record, _ k: String) -> UInt64 { if case .uint(let v)? = r[k] { v } else { 0 } }
    private func s(_ r: Record, _ k: String) -> String { if case .string(let v)? = r[k] { v } else { "" } }

    private func loss(_ records: [Record], _ reason: String) -> UInt64 {
        records.filter { $0.kind == "loss" && s($0, "reason") == reason }.reduce(0) { $0 + u($1, "count") }
    }

    /// Exemplars of the two pods, and the aggregates of their cgroups.
    private func split(_ records: [Record], _ client: Pod, _ server: Pod) -> (exemplars: [Record], aggregates: [Record]) {
        let netns = [UInt64(client.netnsInode), UInt64(server.netnsInode)]
        let cgroups = [client.cgroupID, server.cgroupID]
        return (records.filter { $0.kind == "http" && netns.contains(u($0, "netns")) },
                records.filter { $0.kind == "http_aggregate" && cgroups.contains(u($0, "cgroup_id")) })
    }

    @Test func pastTheCapNothingIsLost() throws {
        try withCollector({ $0.recordCap = 5; $0.maxAggregateURIs = 10 }) { collector, client, server in
            var every = CollectionRules()
            every.l7SampleEvery = 1
            try collector.apply(every)
            let n = 30
            try client.check(L7Peers.curl((0..<n).map { L7Peers.url(ip: server.ipv4, path: "/ok?i=\($0)") }))
            Thread.sleep(forTimeInterval: 0.3)
            let records = try collector.flush()
            let (exemplars, aggregates) = split(records, client, server)
            let counted = aggregates.reduce(0) { $0 + u($1, "count") }
            print("exchanges \(2 * n): exemplars \(exemplars.count), aggregated \(counted) in \(aggregates.count) aggregates; "
                  + "loss l7_exemplars_over_cap \(loss(records, "l7_exemplars_over_cap")), l7_uri_overflow \(loss(records, "l7_uri_overflow"))")
            #expect(exemplars.count == 5)
            #expect(counted == UInt64(2 * n)) // client and server sides
            #expect(loss(records, "l7_exemplars_over_cap") == UInt64(2 * n - 5))
            let uris = Set(aggregates.map { s($0, "http_request_uri") })
            #expect(uris.count == 11 && uris.contains("<other>"))
            let other = aggregates.filter { s($0, "http_request_uri") == "<other>" }.reduce(0) { $0 + u($1, "count") }
            #expect(loss(records, "l7_uri_overflow") == other && other == UInt64(2 * (n - 10)))
            #expect(aggregates.allSatisfy { u($0, "http_status_code") == 200 && u($0, "http_duration_max") > 0 })
        }
    }

    @Test func exemplarRulesApplyAtRunTimeWithoutAReload() throws {
        try withCollector({ _ in }) { collector, client, server in
            let programs = collector.programIDs
            #expect(programs.count == 2)
            func round() throws -> (exemplars: Int, counted: UInt64) {
                try client.check(L7Peers.curl(Array(repeating: L7Peers.url(ip: server.ipv4, path: "/ok"), count: 40)))
                Thread.sleep(forTimeInterval: 0.3)
                let (exemplars, aggregates) = split(try collector.flush(), client, server)
                return (exemplars.count, aggregates.reduce(0) { $0 + u($1, "count") })
            }
            let sampled = try round()
            var every = CollectionRules()
            every.l7SampleEvery = 1
            try collector.apply(every)
            let all = try round()
            every.l7SampleEvery = 0
            try collector.apply(every)
            let none = try round()
            print("exemplars of 80 exchanges: default \(sampled.exemplars), every \(all.exemplars), none \(none.exemplars)")
            let cpus = ProcessInfo.processInfo.activeProcessorCount
            #expect(sampled.counted == 80 && all.counted == 80 && none.counted == 80)
            #expect(sampled.exemplars >= 2 && sampled.exemplars <= 2 * cpus)
            #expect(all.exemplars == 80)
            #expect(none.exemplars == 0)
            #expect(collector.programIDs == programs, "the same programs throughout: no reload")
        }
    }

    @Test func aFullAggregateMapIsCountedNotLost() throws {
        try withCollector({ $0.aggregateKeys = 4 }) { collector, client, server in
            let n = 20
            try client.check(L7Peers.curl((0..<n).map { L7Peers.url(ip: server.ipv4, path: "/ok?i=\($0)") }))
            Thread.sleep(forTimeInterval: 0.3)
            let records = try collector.flush()
            let (_, aggregates) = split(records, client, server)
            let overflow = records.filter { $0.kind == "http_aggregate" && s($0, "http_request_uri") == "<other>" && $0["src_ip"] == nil }
            let keyed = aggregates.reduce(0) { $0 + u($1, "count") }
            let folded = overflow.reduce(0) { $0 + u($1, "count") }
            print("exchanges \(2 * n): in keys \(keyed), in the overflow aggregate \(folded); "
                  + "l7_aggregate_map_full \(loss(records, "l7_aggregate_map_full"))")
            #expect(keyed <= 4)
            // Other pods' traffic may share the overflow: at least ours is there, and all counted.
            #expect(keyed + folded >= UInt64(2 * n))
            #expect(loss(records, "l7_aggregate_map_full") == folded)
            // The collector goes on: the next exchange is counted as ever.
            try client.check(L7Peers.curl([L7Peers.url(ip: server.ipv4, path: "/ok?i=0")]))
            Thread.sleep(forTimeInterval: 0.3)
            let next = try collector.flush()
            let again = split(next, client, server).aggregates.reduce(0) { $0 + u($1, "count") }
                + next.filter { $0.kind == "http_aggregate" && $0["src_ip"] == nil }.reduce(0) { $0 + u($1, "count") }
            #expect(again >= 2)
        }
    }
}

/// Slow exchanges are exemplars whatever the sample: a server answering `/slow` after 120 ms and
/// `/fast` at once, the collector with `l7_slow_ms` 50 and no sample.
@Suite(.serialized, rootOnly)
struct L7SlowExemplarTests {
    @Test func onlyTheSlowOnesAreSent() throws {
        try withLab(pods: 2) { _, pods in
            let (client, server) = (pods[0], pods[1])
            let port = freshPort()
            let peer = try server.spawn([Peers.python, "-c", """
                import http.server, sys, time
                class Handler(http.server.BaseHTTPRequestHandler):
                    protocol_version = 'HTTP/1.1'
                    def do_GET(self):
                        if self.path == '/slow': time.sleep(0.12)
                        self.send_response(200); self.send_header('Content-Length', '2'); self.end_headers()
                        self.wfile.write(b'ok')
                    def log_message(self, *args): pass
                http.server.HTTPServer((sys.argv[1], int(sys.argv[2])), Handler).serve_forever()
                """, server.ipv4, String(port)])
            defer { _ = peer.terminate() }
            try L7Peers.waitForListener(in: client, ip: server.ipv4, port: port)
            let root = try #require(CgroupMount.v2Root())
            let collector = try L7Collector(options: L7Collector.Options(node: "lab", cgroupRoot: root),
                                            context: RecordContext(node: "lab", monotonicToUnixNs: 0))
            defer { collector.close() }
            var rules = CollectionRules()
            rules.l7SampleEvery = 0
            rules.l7SlowMs = 50
            try collector.apply(rules)
            _ = try collector.flush()
            let base = "http://\(server.ipv4):\(port)"
            try client.check(L7Peers.curl((0..<10).map { "\(base)/\($0 % 5 == 0 ? "slow" : "fast")" }))
            Thread.sleep(forTimeInterval: 0.3)
            let records = try collector.flush()
            let netns = [UInt64(client.netnsInode), UInt64(server.netnsInode)]
            func u(_ r: Record, _ k: String) -> UInt64 { if case .uint(let v)? = r[k] { v } else { 0 } }
            func s(_ r: Record, _ k: String) -> String { if case .string(let v)? = r[k] { v } else { "" } }
            let exemplars = records.filter { $0.kind == "http" && netns.contains(u($0, "netns")) }
            #expect(exemplars.map { s($0, "http_request_uri") } == Array(repeating: "/slow", count: 4), "\(exemplars)")
            #expect(exemplars.allSatisfy { s($0, "exemplar") == "slow" && u($0, "http_duration") >= 50_000_000 })
            let counted = records.filter { $0.kind == "http_aggregate" && [client.cgroupID, server.cgroupID].contains(u($0, "cgroup_id")) }
                .reduce(0) { $0 + u($1, "count") }
            #expect(counted == 20)
        }
    }
}
