import NetobsBuildInfo
import NetobsTopology
import NetobsWire
import NetobsController

/// The controller's own counters, read at scrape time.
public struct ControllerSelfMetrics: Sendable {
    public var storedRecords: UInt64 = 0
    public var storedBatches: UInt64 = 0
    public var duplicateBatches: UInt64 = 0
    public var subscribers: UInt64 = 0
    public var publishedRecords: UInt64 = 0
    public var deliveredRecords: UInt64 = 0
    public var droppedRecords: UInt64 = 0
    public var unparsedRecords: UInt64 = 0
    public var unpublishedRecords: UInt64 = 0
    public var httpStreams: UInt64 = 0
    /// Every agent's latest hook report (the registry's, read at scrape time like the counters).
    public var agentHooks: [AgentHookReport] = []
    /// Every agent the registry knows, and the wall clock (unix ns) to age their last batch by.
    public var agents: [AgentStatus] = []
    public var nowNs: UInt64 = 0
    /// The topology feeds' health.
    public var topology: [TopologyWatchHealth] = []
    /// For `netobs_build_info`.
    public var version = BuildInfo.version
    /// nil: no `process_*` series (where /proc cannot be read).
    public var process: ProcessMetrics?
    /// The durable logs (nil: no series).
    public var logStore: LogStoreStats?

    public init() {}
}

/// Renders the tables and self metrics as Prometheus text. Series are sorted so that two
/// scrapes of the same state read the same.
enum MetricsExposition {
    static func render(_ t: MetricsTables, _ own: ControllerSelfMetrics) -> String {
        var p = PrometheusText()
        p.family("netobs_build_info", "gauge", "1, labelled with the version (git describe) the controller was built from.")
        p.sample("netobs_build_info", [("version", own.version)], "1")
        own.process?.render(&p)
        selfMetrics(&p, own, t)
        AgentHookSeries.render(&p, own.agentHooks)
        AgentSeries.render(&p, own.agents, nowNs: own.nowNs)
        losses(&p, t)
        TopologySeries.render(&p, own.topology)
        LogStoreSeries.render(&p, own.logStore)
        pods(&p, t)
        edges(&p, t)
        return p.text
    }

    private static func selfMetrics(_ p: inout PrometheusText, _ own: ControllerSelfMetrics, _ t: MetricsTables) {
        let counters: [(String, String, UInt64)] = [
            ("netobs_controller_records_ingested_total", "Records stored durably (each once, duplicates excluded).", own.storedRecords),
            ("netobs_controller_batches_ingested_total", "FlowBatches stored durably.", own.storedBatches),
            ("netobs_controller_duplicate_batches_total", "FlowBatches received again after being stored (acknowledged, not stored twice).", own.duplicateBatches),
            ("netobs_stream_published_records_total", "Records published to the consumer stream.", own.publishedRecords),
            ("netobs_stream_delivered_records_total", "Records handed to consumers, summed over consumers.", own.deliveredRecords),
            ("netobs_stream_dropped_records_total", "Records dropped for consumers that read too slowly, summed over consumers.", own.droppedRecords),
            ("netobs_stream_unpublished_records_total", "Stored records not published to consumers because too many waited to be (they stay in the durable log).", own.unpublishedRecords),
            ("netobs_stream_unparsed_records_total", "Published records that are not a JSON object: no filters or metrics for them.", own.unparsedRecords),
            ("netobs_metrics_records_total", "Records counted into the per-pod and per-edge metrics.", t.records),
        ]
        for (name, help, value) in counters {
            p.family(name, "counter", help)
            p.sample(name, [:], value)
        }
        p.family("netobs_stream_subscribers", "gauge", "Consumers subscribed now (binary protocol and HTTP streams).")
        p.sample("netobs_stream_subscribers", [:], own.subscribers)
        p.family("netobs_http_streams", "gauge", "HTTP record streams open now.")
        p.sample("netobs_http_streams", [:], own.httpStreams)
        p.family("netobs_metrics_series_keys", "gauge", "Keys held in each metrics table (the cap applies to these).")
        p.sample("netobs_metrics_series_keys", ["table": "pod"], UInt64(t.pods.count))
        p.sample("netobs_metrics_series_keys", ["table": "edge"], UInt64(t.edges.count))
        p.sample("netobs_metrics_series_keys", ["table": "loss"], UInt64(t.losses.count))
        p.family("netobs_metrics_overflow_records_total", "counter", "Records folded into the \"other\" series because a table was full.")
        p.sample("netobs_metrics_overflow_records_total", ["table": "pod"], t.overflowRecords.pods)
        p.sample("netobs_metrics_overflow_records_total", ["table": "edge"], t.overflowRecords.edges)
        p.family("netobs_metrics_evicted_keys_total", "counter", "Keys forgotten after seeing no record for the idle grace period (--metrics-pod-grace).")
        p.sample("netobs_metrics_evicted_keys_total", ["table": "pod"], t.evictedKeys.pods)
        p.sample("netobs_metrics_evicted_keys_total", ["table": "edge"], t.evictedKeys.edges)
        p.sample("netobs_metrics_evicted_keys_total", ["table": "loss"], t.evictedKeys.losses)
    }

    /// Loss records by node and reason (the published ones).
    private static func losses(_ p: inout PrometheusText, _ t: MetricsTables) {
        let name = "netobs_agent_lost_records_by_reason_total"
        p.family(name, "counter", "Records agents reported lost, by node and reason, from the published loss records.")
        for k in t.losses.keys.sorted() {
            p.sample(name, [(MetricLabels.node, k.node), ("reason", k.reason)], String(t.losses[k]!))
        }
    }

    private static func pods(_ p: inout PrometheusText, _ t: MetricsTables) {
        let keys = t.pods.keys.sorted()
        let simple: [(String, String, KeyPath<MetricsTables.PodSeries, UInt64>)] = [
            ("netobs_pod_tcp_tx_bytes_total", "TCP payload bytes sent by the pod.", \.tcpTxBytes),
            ("netobs_pod_tcp_rx_bytes_total", "TCP payload bytes received by the pod.", \.tcpRxBytes),
            ("netobs_pod_tcp_retransmits_total", "TCP segments the pod retransmitted.", \.tcpRetransmits),
            ("netobs_pod_tcp_drops_total", "Packets of the pod's TCP flows dropped by the kernel.", \.tcpDrops),
            ("netobs_pod_tcp_tlp_total", "TCP tail loss probes the pod sent.", \.tcpTLP),
            ("netobs_pod_udp_tx_bytes_total", "UDP payload bytes sent by the pod.", \.udpTxBytes),
            ("netobs_pod_udp_rx_bytes_total", "UDP payload bytes received by the pod.", \.udpRxBytes),
        ]
        for (name, help, path) in simple {
            p.family(name, "counter", help)
            for k in keys { p.sample(name, [(MetricLabels.namespace, k.namespace), (MetricLabels.pod, k.pod)], String(t.pods[k]![keyPath: path])) }
        }
        outcomes(&p, t, keys, "netobs_pod_http_requests_total", "status_class",
                 "HTTP exchanges seen by the pod, as client or server, by status class.", \.httpRequests)
        durations(&p, t, keys, "netobs_pod_http_duration_seconds", "HTTP request to response time seen by the pod.", \.httpDuration)
        outcomes(&p, t, keys, "netobs_pod_dns_requests_total", "rcode",
                 "DNS exchanges seen by the pod, as client or server, by response code.", \.dnsRequests)
        durations(&p, t, keys, "netobs_pod_dns_duration_seconds", "DNS query to response time seen by the pod.", \.dnsDuration)
    }

    private static func outcomes(_ p: inout PrometheusText, _ t: MetricsTables, _ keys: [MetricsTables.PodKey],
                                 _ name: String, _ label: String, _ help: String,
                                 _ path: KeyPath<MetricsTables.PodSeries, [MetricsTables.Outcome: UInt64]>) {
        p.family(name, "counter", help)
        for k in keys {
            let series = t.pods[k]![keyPath: path]
            for o in series.keys.sorted() {
                p.sample(name, [(MetricLabels.namespace, k.namespace), (MetricLabels.pod, k.pod), ("role", o.role), (label, o.value)],
                         String(series[o]!))
            }
        }
    }

    private static func durations(_ p: inout PrometheusText, _ t: MetricsTables, _ keys: [MetricsTables.PodKey],
                                  _ name: String, _ help: String,
                                  _ path: KeyPath<MetricsTables.PodSeries, [String: DurationHistogram]>) {
        p.family(name, "histogram", help)
        for k in keys {
            let series = t.pods[k]![keyPath: path]
            for role in series.keys.sorted() {
                p.histogram(name, [(MetricLabels.namespace, k.namespace), (MetricLabels.pod, k.pod), ("role", role)], series[role]!)
            }
        }
    }

    private static func edges(_ p: inout PrometheusText, _ t: MetricsTables) {
        let keys = t.edges.keys.sorted()
        func labels(_ k: MetricsTables.EdgeKey) -> [(String, String)] {
            [("reporter", k.reporter), ("src_namespace", k.srcNamespace), ("src_pod", k.srcPod),
             ("dst_namespace", k.dstNamespace), ("dst_pod", k.dstPod), ("dst_service", k.dstService)]
        }
        p.family("netobs_edge_requests_total", "counter", "HTTP and DNS exchanges from a client pod to a server pod or service.")
        for k in keys { p.sample("netobs_edge_requests_total", labels(k), String(t.edges[k]!.requests)) }
        p.family("netobs_edge_bytes_total", "counter", "TCP and UDP payload bytes both ways between a client pod and a server pod or service.")
        for k in keys { p.sample("netobs_edge_bytes_total", labels(k), String(t.edges[k]!.bytes)) }
    }
}
