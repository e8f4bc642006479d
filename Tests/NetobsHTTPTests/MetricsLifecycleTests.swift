import Foundation
import Synchronization
import Testing
@testable import NetobsHTTP
import NetobsBuildInfo
import NetobsController
import NetobsTopology
import NetobsWire

/// A clock the test moves.
final class TestClock: Sendable {
    private let value = Atomic<UInt64>(1_000_000_000)
    var now: UInt64 { value.load(ordering: .relaxed) }
    func advance(minutes: UInt64) { value.add(minutes * 60_000_000_000, ordering: .relaxed) }
    var read: @Sendable () -> UInt64 { { [self] in now } }
}

/// The samples of `name` in an exposition, as "labels value".
func samples(_ text: String, _ name: String) -> [String] {
    text.split(separator: "\n").filter { $0.hasPrefix(name + "{") || $0.hasPrefix(name + " ") }
        .map { String($0.dropFirst(name.count)) }
}

@Suite("metrics: idle series leave, agents, topology, the process")
struct MetricsLifecycleTests {
    @Test("a pod idle past the grace leaves /metrics and frees its slot; an active one stays")
    func idleSeriesAreEvicted() {
        let clock = TestClock()
        let store = MetricsStore(limits: .init(maxPods: 2, maxEdges: 2, idleGrace: .seconds(600)), clock: clock.read)
        store.add(Records.views([Records.http(200, pod: "old-0", dstPod: "d0"), Records.http(200, pod: "busy", dstPod: "d1")]))
        clock.advance(minutes: 5)
        store.add(Records.views([Records.http(200, pod: "late", dstPod: "d2"), Records.http(200, pod: "busy", dstPod: "d1")]))
        var text = store.exposition(ControllerSelfMetrics())
        #expect(text.contains(#"exported_pod="other""#), "full at 5 min: the new pod is folded")
        #expect(!text.contains(#"exported_pod="late""#))

        clock.advance(minutes: 6)  // old-0 idle for 11 min; busy for 6; "other" for 6
        store.add(Records.views([Records.http(200, pod: "late", dstPod: "d2")]))
        text = store.exposition(ControllerSelfMetrics())
        #expect(!text.contains(#"exported_pod="old-0""#) && !text.contains(#"dst_pod="d0""#), "old-0's pod and edge series are gone")
        #expect(text.contains(#"netobs_pod_http_requests_total{exported_namespace="shop",exported_pod="late",role="client",status_class="2xx"} 1"#),
                "late has a series of its own now, starting from its first record after the slot was freed")
        #expect(text.contains(#"netobs_pod_http_requests_total{exported_namespace="shop",exported_pod="busy",role="client",status_class="2xx"} 2"#))
        #expect(text.contains(#"netobs_metrics_evicted_keys_total{table="pod"} 1"#))
        #expect(text.contains(#"netobs_metrics_evicted_keys_total{table="edge"} 1"#))

        clock.advance(minutes: 5)  // "other" and busy idle 11 min, late 5
        text = store.exposition(ControllerSelfMetrics())
        #expect(!text.contains(#"exported_pod="other""#) && !text.contains(#"exported_pod="busy""#) && text.contains(#"exported_pod="late""#))
        #expect(text.contains(#"netobs_metrics_series_keys{table="pod"} 1"#))
    }

    @Test func aGraceOfZeroNeverEvicts() {
        let clock = TestClock()
        let store = MetricsStore(limits: .init(maxPods: 10, maxEdges: 10, idleGrace: .zero), clock: clock.read)
        store.add(Records.views([Records.http(200, pod: "p")]))
        clock.advance(minutes: 100_000)
        #expect(store.exposition(ControllerSelfMetrics()).contains(#"exported_pod="p""#))
    }

    @Test("loss records by node and reason; agents from the registry; topology feeds; build and process")
    func newFamilies() async throws {
        let store = MetricsStore()
        store.add(Records.views([
            Array(#"{"kind":"loss","ts_ns":1,"node":"node-1","reason":"tcp_flow_table_full","count":7,"total":7}"#.utf8),
            Array(#"{"kind":"loss","ts_ns":2,"node":"node-1","reason":"tcp_flow_table_full","count":3,"total":10}"#.utf8),
            Array(#"{"kind":"loss","ts_ns":2,"node":"node-2","reason":"spool_full","count":1}"#.utf8),
        ]))
        var own = ControllerSelfMetrics()
        own.nowNs = 100_000_000_000
        own.agents = [
            AgentStatus(nodeName: "node-2", identity: "node-2", connected: false, ackedSequence: 5, seenSequence: 5,
                        lastBatchNs: 40_000_000_000, lostRecords: 1),
            AgentStatus(nodeName: "node-1", identity: "node-1", connected: true, ackedSequence: 40, seenSequence: 42,
                        lastBatchNs: 99_500_000_000, lostRecords: 10, counters: [Counter("spool_bytes", 4096), Counter("records_sent", 9)]),
            AgentStatus(nodeName: "node-3", identity: "node-3", connected: true),
        ]
        var pods = TopologyWatchHealth(source: "kubernetes", resource: "pods")
        pods.up = true
        pods.lastSyncNs = 99_000_000_000
        pods.relists = 1
        pods.events = 12
        var nodes = TopologyWatchHealth(source: "kubernetes", resource: "nodes")
        nodes.failures = 3
        own.topology = [nodes, pods]
        own.process = ProcessMetrics.current()
        let text = store.exposition(own)

        #expect(samples(text, "netobs_agent_lost_records_by_reason_total") == [
            #"{exported_node="node-1",reason="tcp_flow_table_full"} 10"#, #"{exported_node="node-2",reason="spool_full"} 1"#])
        #expect(samples(text, "netobs_agent_connected") == [#"{exported_node="node-1"} 1"#, #"{exported_node="node-2"} 0"#,
                                                             #"{exported_node="node-3"} 1"#])
        #expect(samples(text, "netobs_agent_last_batch_age_seconds") == [#"{exported_node="node-1"} 0.5"#, #"{exported_node="node-2"} 60"#],
                "no sample for an agent that sent no batch yet")
        #expect(samples(text, "netobs_agent_unacked_batches").first == #"{exported_node="node-1"} 2"#)
        #expect(samples(text, "netobs_agent_lost_records_total").prefix(2) == [#"{exported_node="node-1"} 10"#, #"{exported_node="node-2"} 1"#])
        #expect(samples(text, "netobs_agent_heartbeat_value") == [#"{exported_node="node-1",name="records_sent"} 9"#,
                                                                     #"{exported_node="node-1",name="spool_bytes"} 4096"#])
        #expect(samples(text, "netobs_topology_watch_up") == [#"{source="kubernetes",resource="nodes"} 0"#,
                                                               #"{source="kubernetes",resource="pods"} 1"#])
        #expect(samples(text, "netobs_topology_last_sync_timestamp_seconds").last == #"{source="kubernetes",resource="pods"} 99"#)
        #expect(samples(text, "netobs_topology_relists_total").last == #"{source="kubernetes",resource="pods"} 1"#)
        #expect(samples(text, "netobs_topology_watch_failures_total").first == #"{source="kubernetes",resource="nodes"} 3"#)
        #expect(samples(text, "netobs_topology_events_total").last == #"{source="kubernetes",resource="pods"} 12"#)
        #expect(samples(text, "netobs_build_info") == [#"{version="\#(BuildInfo.version)"} 1"#])

        // The standard process series, with this process's values.
        let process = try #require(own.process)
        #expect(process.openFDs > 2 && process.maxFDs >= process.openFDs && process.residentBytes > 1_000_000)
        #expect(process.virtualBytes > process.residentBytes && process.cpuSeconds > 0)
        let started = Date(timeIntervalSince1970: process.startTimeSeconds)
        #expect(started < Date() && started > Date().addingTimeInterval(-86_400))
        for name in ["process_cpu_seconds_total", "process_resident_memory_bytes", "process_virtual_memory_bytes",
                     "process_open_fds", "process_max_fds", "process_start_time_seconds"] {
            #expect(samples(text, name).count == 1, "\(name)")
        }
        let (status, output) = try await promtoolCheck(text)
        #expect(status == 0 && output.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty, "promtool: \(output)")
    }

    @Test("no label is named as a scrape target's labels are")
    func noClashingLabels() {
        let store = MetricsStore()
        store.add(Records.views([Records.http(200), Records.dns("NXDOMAIN"), Records.tcp(),
                                 Array(#"{"kind":"loss","node":"n","reason":"r","count":1}"#.utf8)]))
        var own = ControllerSelfMetrics()
        own.agents = [AgentStatus(nodeName: "n", identity: "n", connected: true, lastBatchNs: 1, counters: [Counter("c", 1)])]
        own.agentHooks = [AgentHookReport(node: "n", hooks: [HookStatus(hook: "h", tier: "btf", programType: "tp_btf")])]
        own.topology = [TopologyWatchHealth(source: "file", resource: "file")]
        let text = store.exposition(own)
        let targetLabels: Set<String> = ["namespace", "pod", "node", "service", "container", "endpoint", "job", "instance"]
        var seen: Set<String> = []
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            guard let open = line.firstIndex(of: "{"), let close = line.lastIndex(of: "}") else { continue }
            for pair in line[line.index(after: open)..<close].split(separator: ",") {
                seen.insert(String(pair.split(separator: "=")[0]))
            }
        }
        #expect(seen.isDisjoint(with: targetLabels), "\(seen.intersection(targetLabels))")
        #expect(seen.isSuperset(of: ["exported_namespace", "exported_pod", "exported_node", "src_namespace", "dst_pod"]))
    }
}

/// /metrics of a running controller: its agents' and topology's series, read at scrape time.
@Suite("metrics: a running controller's agents and topology", .serialized)
struct ControllerSeriesEndpointTests {
    @Test func topologyFileFeedAndBuildInfo() async throws {
        let pki = try FilePKI()
        let file = temporaryDirectory("topology") + "/topology.json"
        try #"{"pods":[{"name":"carts-1","namespace":"shop","ips":["10.1.0.5"]}]}"#.write(toFile: file, atomically: true, encoding: .utf8)
        let store = TopologyStore()
        let source = FileTopologySource(path: file, store: store, pollInterval: .milliseconds(50))
        try source.start()
        defer { source.stop() }
        let running = try await Running.start(pki, security: { _ in .plaintextLoopback },
                                              controller: { $0.joiner = TopologyJoiner(store: store) })
        defer { Task { await running.stop() } }
        let curl = Curl(pki: pki, port: running.http.port, plaintext: true)
        let body = try await curl.get("/metrics").body
        #expect(body.contains(#"netobs_topology_watch_up{source="file",resource="file"} 1"#), "\(body.prefix(3000))")
        #expect(body.contains(#"netobs_topology_events_total{source="file",resource="file"} 1"#))
        #expect(body.contains("netobs_build_info{version=\"\(BuildInfo.version)\"} 1"))
        #expect(body.contains("process_start_time_seconds "))

        // A file that stops loading: the feed goes down and counts the failure.
        try "{ broken".write(toFile: file, atomically: true, encoding: .utf8)
        #expect(await eventually {
            let text = (try? await curl.get("/metrics").body) ?? ""
            return text.contains(#"netobs_topology_watch_up{source="file",resource="file"} 0"#)
                && !text.contains(#"netobs_topology_watch_failures_total{source="file",resource="file"} 0"#)
        })
        #expect(try await promtoolCheck(try await curl.get("/metrics").body).status == 0)
    }
}
