import Foundation
import Testing
@testable import NetobsHTTP
import NetobsController
import NetobsTopology
import NetobsWire

/// manifests/prometheus: the alert rules are valid, their unit tests pass, and every netobs
/// metric they use is one the controller exports.
@Suite("Prometheus alert rules")
struct AlertRulesTests {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("manifests/prometheus").path
    static let rules = directory + "/netobs-rules.yaml"

    /// Missing promtool fails the test (scripts/setup.sh installs it), never skips it.
    func promtool(_ arguments: [String]) async throws -> (Int32, String) {
        try #require(FileManager.default.isExecutableFile(atPath: "/usr/bin/promtool"),
                     "promtool is missing: scripts/setup.sh installs Debian's prometheus package")
        let (status, out, err) = try await Child.run("/usr/bin/promtool", arguments)
        return (status, out + err)
    }

    @Test func promtoolCheckRules() async throws {
        let (status, output) = try await promtool(["check", "rules", Self.rules])
        #expect(status == 0, "\(output)")
        #expect(output.contains("SUCCESS: 7 rules found"), "\(output)")
    }

    @Test func promtoolTestRules() async throws {
        let (status, output) = try await promtool(["test", "rules", Self.directory + "/netobs-rules.test.yaml"])
        #expect(status == 0, "\(output)")
        #expect(output.contains("SUCCESS"), "\(output)")
    }

    @Test("every netobs metric the rules use is exported, with the labels they read")
    func rulesUseExportedMetrics() throws {
        let text = try String(contentsOfFile: Self.rules, encoding: .utf8)
        let used = Set(text.matches(of: /netobs_[a-z_]+/).map { String($0.output) })
        #expect(used.count >= 7, "\(used)")
        var own = ControllerSelfMetrics()
        own.agents = [AgentStatus(nodeName: "node-1", identity: "node-1", connected: true, lastBatchNs: 1, lostRecords: 3)]
        own.nowNs = 2_000_000_000
        var pods = TopologyWatchHealth(source: "kubernetes", resource: "pods")
        pods.up = true
        own.topology = [pods]
        own.logStore = LogStoreStats(retention: .unbounded)
        let store = MetricsStore()
        store.add(Records.views([Array(#"{"kind":"loss","node":"node-1","reason":"tcp_flow_table_full","count":3}"#.utf8)]))
        let exposition = store.exposition(own)
        let families = Set(exposition.split(separator: "\n").filter { $0.hasPrefix("# TYPE ") }.map { String($0.split(separator: " ")[2]) })
        for name in used {
            #expect(families.contains(name), "the rules use \(name), which /metrics does not export")
        }
        // The labels the annotations read are on the series.
        #expect(exposition.contains(#"netobs_agent_connected{exported_node="node-1"} 1"#))
        #expect(exposition.contains(#"netobs_topology_watch_up{source="kubernetes",resource="pods"} 1"#))
        #expect(text.contains("exported_node") && !text.contains("$labels.node "))
    }
}
