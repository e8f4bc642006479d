import Foundation
import Testing
@testable import NetobsHTTP
import NetobsAgentLink
import NetobsController
import NetobsWire

@Suite("metrics: the durable logs")
struct LogStoreExpositionTests {
    func exposition(_ stats: LogStoreStats?) -> String {
        var own = ControllerSelfMetrics()
        own.logStore = stats
        return MetricsStore().exposition(own)
    }

    var stats: LogStoreStats {
        var s = LogStoreStats(retention: LogRetention(maxBytes: 64 << 20, maxAgeNs: 7 * 86_400 * 1_000_000_000))
        s.bytes = 60_000_000
        s.segments = 4_100
        s.dropped = ["node-b": [.bytes: DropCount(batches: 3, records: 150), .age: DropCount(batches: 1, records: 7)],
                     "node-a": [.bytes: DropCount(batches: 2, records: 100)]]
        s.tornTails = 1
        s.tornBytes = 20
        s.appendFailures = [.diskFull: 4]
        s.appendsBlocked = true
        s.volumeFreeBytes = 1_048_576
        return s
    }

    @Test func seriesPerNodeAndReason() {
        let text = exposition(stats)
        #expect(text.split(separator: "\n").filter { $0.hasPrefix("netobs_log_retention_dropped_records_total{") } == [
            #"netobs_log_retention_dropped_records_total{exported_node="node-a",reason="bytes"} 100"#,
            #"netobs_log_retention_dropped_records_total{exported_node="node-b",reason="age"} 7"#,
            #"netobs_log_retention_dropped_records_total{exported_node="node-b",reason="bytes"} 150"#,
        ])
        #expect(text.contains(#"netobs_log_retention_dropped_batches_total{exported_node="node-b",reason="bytes"} 3"# + "\n"))
        for line in ["netobs_log_bytes 60000000", "netobs_log_segments 4100", "netobs_log_retention_limit_bytes 67108864",
                     "netobs_log_retention_age_seconds 604800", "netobs_log_volume_free_bytes 1048576",
                     "netobs_log_torn_tails_total 1", "netobs_log_torn_bytes_total 20",
                     #"netobs_log_append_failures_total{reason="disk_full"} 4"#,
                     #"netobs_log_append_failures_total{reason="io_error"} 0"#, "netobs_log_appends_blocked 1"] {
            #expect(text.contains(line + "\n"), "\(line)")
        }
        #expect(!exposition(nil).contains("netobs_log_"))
    }

    @Test("promtool check metrics accepts the log series")
    func promtoolAccepts() async throws {
        for text in [exposition(stats), exposition(LogStoreStats(retention: .unbounded))] {
            let (status, output) = try await promtoolCheck(text)
            #expect(status == 0, "promtool: \(output)")
            #expect(output.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty, "promtool lint: \(output)")
        }
    }
}

@Suite("metrics: retention drops from a real controller", .serialized)
struct LogStoreEndpointTests {
    @Test("GET /metrics counts what retention dropped of a node; dropped and kept add up to what was acknowledged")
    func dropsOnMetrics() async throws {
        let pki = try FilePKI()
        let running = try await Running.start(pki, security: { _ in .plaintextLoopback },
                                              controller: { $0.retention = LogRetention(maxBytes: 20_000) })
        defer { Task { await running.stop() } }
        let agent = AgentUplink(endpoint: ControllerEndpoint(host: "127.0.0.1", port: running.controller.port,
                                                             tls: try pki.clientContext(.agent, name: "node-1")),
                                spool: try Spool(directory: temporaryDirectory("spool"), agentId: "node-1"),
                                node: AgentIdentity(nodeName: "node-1", agentVersion: "test", kernelRelease: "test"),
                                backoff: Backoff(baseMs: 20, capMs: 200, floorMs: 10), log: { _ in })
        agent.start()
        let record = Array(#"{"kind":"tcp","pad":""#.utf8) + Array(repeating: UInt8(ascii: "x"), count: 480) + Array(#""}"#.utf8)
        for _ in 1...30 { try agent.submit(records: Array(repeating: record, count: 3)) }
        #expect(await agent.drain(timeoutMs: 15_000))
        #expect(await eventually { running.controller.hub.stats.publishedRecords == 90 })
        try await Task.sleep(for: .milliseconds(100))   // the last batches settle after their publish
        running.controller.store.enforceRetention()

        let kept = try running.controller.store.entries(agentId: "node-1").map(\.sequence)
        let dropped = running.controller.store.stats.dropped["node-1"]?[.bytes] ?? DropCount()
        #expect(dropped.batches > 0 && dropped.records == 3 * dropped.batches)
        #expect(kept == Array((dropped.batches + 1)...30), "every acknowledged batch kept or counted as dropped")
        let metrics = try await Curl(pki: pki, port: running.http.port, plaintext: true).get("/metrics")
        #expect(metrics.body.contains(#"netobs_log_retention_dropped_batches_total{exported_node="node-1",reason="bytes"} \#(dropped.batches)"#))
        #expect(metrics.body.contains(#"netobs_log_retention_dropped_records_total{exported_node="node-1",reason="bytes"} \#(dropped.records)"#))
        #expect(metrics.body.contains("netobs_log_retention_limit_bytes 20000\n"))
        let bytes = metrics.body.split(separator: "\n").first { $0.hasPrefix("netobs_log_bytes ") }.flatMap { Int($0.split(separator: " ")[1]) }
        #expect(bytes.map { $0 <= 20_000 } == true, "\(bytes.map(String.init) ?? "none")")
        #expect(try await promtoolCheck(metrics.body).status == 0)
        await agent.stop()
    }
}
