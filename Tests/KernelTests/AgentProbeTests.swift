import Foundation
import NodeLab
import Testing
@testable import NetobsAgent
import NetobsRecords
import NetobsWire

/// `--health-listen`: the agent's probes and its own /metrics, read over HTTP while it runs.
@Suite("agent probe listener", .serialized)
struct AgentProbeTests {
    func get(_ url: String) throws -> (status: Int, body: String) {
        let run = try Shell.run(["curl", "-s", "-o", "-", "-w", "\n%{http_code}", "--max-time", "5", url])
        let lines = run.stdout.split(separator: "\n", omittingEmptySubsequences: false)
        return (Int(lines.last ?? "") ?? -1, lines.dropLast().joined(separator: "\n"))
    }

    @Test func healthReadinessAndTheAgentsOwnSeries() throws {
        let port = Int.random(in: 20_000...32_000)
        try withLab(pods: 2) { _, pods in
            let (client, server) = (pods[0], pods[1])
            let nginx = try L7Peers.runNginx(in: server, ip: server.ipv4, reachableFrom: client)
            defer { nginx.stop() }
            let agent = try AgentRun(extraArguments: ["--health-listen", "127.0.0.1:\(port)"])
            #expect(agent.stderrText.contains("probes on http://127.0.0.1:\(port)"))
            _ = try client.check(L7Peers.curl([L7Peers.url(ip: server.ipv4, path: "/")]))
            // Ready once flushed; the exchange is counted once a flush carried it.
            #expect(waitUntil(15) { (try? get("http://127.0.0.1:\(port)/readyz"))?.status == 200 })
            #expect(try get("http://127.0.0.1:\(port)/healthz") == (200, "ok\n"))
            #expect(waitUntil(15) {
                (try? get("http://127.0.0.1:\(port)/metrics"))?.body.contains("netobs_agent_records_total{kind=\"http") == true
            })
            let metrics = try get("http://127.0.0.1:\(port)/metrics")
            #expect(metrics.status == 200)
            let features = try HookTierTests.features(["--hooks", AgentRun.tier])
            for (hook, report) in HookTierTests.hooks(features) {
                let tier = report["tier"] as? String ?? "?"
                #expect(metrics.body.contains("netobs_agent_hook_tier{hook=\"\(hook)\",tier=\"\(tier)\"} 1"), "\(hook)")
            }
            let httpRecords = metrics.body.split(separator: "\n").first { $0.hasPrefix("netobs_agent_records_total{kind=\"http") }
            #expect(httpRecords != nil, "\(metrics.body)")
            #expect(metrics.body.contains("netobs_agent_flow_table_size{table=\"tcp\"} "))
            // Every ring the agent reads has a fill gauge, a share between 0 and 1.
            let fills = metrics.body.split(separator: "\n").filter { $0.hasPrefix("netobs_agent_ring_fill_ratio{") }
            let rings = Set(fills.compactMap { $0.split(separator: "\"").dropFirst().first.map(String.init) })
            #expect(rings.isSuperset(of: ["l4_closed_flows", "l7_events", "l7_plain"]), "\(fills)")
            #expect(fills.allSatisfy { Double($0.split(separator: " ").last ?? "").map { (0...1).contains($0) } == true }, "\(fills)")
            #expect(metrics.body.contains("process_resident_memory_bytes "))
            #expect(try get("http://127.0.0.1:\(port)/v1/records").status == 404)
            _ = try agent.stop()
        }
    }

    @Test func livenessAndReadinessFromTheState() {
        var state = AgentHealth.State(startedUnixNs: 1_000_000_000_000)
        state.intervalNs = 1_000_000_000
        #expect(state.readiness == "not flushed yet")
        #expect(state.liveness(nowUnixNs: 1_010_000_000_000, maxAgeNs: 15_000_000_000) == nil, "starting: not dead yet")
        #expect(state.liveness(nowUnixNs: 1_020_000_000_000, maxAgeNs: 15_000_000_000)?.contains("no flush") == true)
        state.lastFlushUnixNs = 1_020_000_000_000
        #expect(state.readiness == nil)
        #expect(state.liveness(nowUnixNs: 1_030_000_000_000, maxAgeNs: 15_000_000_000) == nil)
        #expect(state.liveness(nowUnixNs: 1_036_000_000_000, maxAgeNs: 15_000_000_000)?.contains("16000 ms ago") == true)
    }

    @Test func flushesCountKindsAndKeepLossTotals() {
        let health = AgentHealth(startedUnixNs: 1)
        var loss = Record(kind: "loss")
        loss.set("reason", .string("tcp_flow_table_full"))
        loss.set("count", .uint(3))
        loss.set("total", .uint(7))
        health.flushed([Record(kind: "tcp"), Record(kind: "tcp"), Record(kind: "udp"), loss], intervalNs: 5, atUnixNs: 10)
        loss.set("total", .uint(9))
        health.flushed([Record(kind: "tcp"), loss], intervalNs: 5, atUnixNs: 20)
        let s = health.snapshot
        #expect(s.recordsByKind == ["tcp": 3, "udp": 1, "loss": 2])
        #expect(s.lostByReason == ["tcp_flow_table_full": 9])
        #expect(s.flushes == 2 && s.lastFlushUnixNs == 20)
        let text = s.exposition(version: "v1")
        #expect(text.contains("netobs_agent_lost_records_total{reason=\"tcp_flow_table_full\"} 9\n"))
        #expect(text.contains("netobs_agent_records_total{kind=\"tcp\"} 3\n"))
    }
}
