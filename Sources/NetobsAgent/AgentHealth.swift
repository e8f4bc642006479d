import NetobsProbes
import NetobsRecords
import NetobsWire
import Synchronization

/// What the agent's probe listener reports (`--health-listen`): updated by the collection loop
/// after each flush, read by the listener's thread.
public final class AgentHealth: Sendable {
    public struct State: Sendable, Equatable {
        public var startedUnixNs: UInt64
        public var intervalNs: UInt64 = 0
        /// 0 until the first flush.
        public var lastFlushUnixNs: UInt64 = 0
        public var flushes: UInt64 = 0
        public var recordsByKind: [String: UInt64] = [:]
        /// Loss records' running totals, by reason.
        public var lostByReason: [String: UInt64] = [:]
        public var hooks: [HookStatus] = []
        /// Flows followed now, and the flow tables' sizes (nil: the L4 programs are not loaded).
        public var tcpFlows: Int?
        public var udpFlows: Int?
        public var maxTCPFlows = 0
        public var maxUDPFlows = 0
        /// Per BPF ring buffer, the highest fill seen during the last interval (0 … 1).
        public var ringFill: [String: Double] = [:]
        /// Controller mode: batches and bytes waiting in the spool for an acknowledgement.
        public var spoolBatches: Int?
        public var spoolBytes: Int?
    }

    private let state: Mutex<State>

    public init(startedUnixNs: UInt64 = Clock.realtimeNs()) { state = Mutex(State(startedUnixNs: startedUnixNs)) }

    public var snapshot: State { state.withLock { $0 } }

    public func update(_ change: (inout State) -> Void) { state.withLock { change(&$0) } }

    /// Counts a flush's records: kinds, and the running loss totals the loss records carry.
    func flushed(_ records: [Record], intervalNs: UInt64, atUnixNs now: UInt64) {
        state.withLock { s in
            s.intervalNs = intervalNs
            s.lastFlushUnixNs = now
            s.flushes += 1
            for record in records {
                s.recordsByKind[record.kind, default: 0] += 1
                if record.kind == "loss", case .string(let reason)? = record["reason"], case .uint(let total)? = record["total"] {
                    s.lostByReason[reason] = total
                }
            }
        }
    }
}

extension AgentHealth.State {
    /// nil when the agent flushed within `maxAgeNs` (and within three of its intervals), else why not.
    public func liveness(nowUnixNs: UInt64, maxAgeNs: UInt64) -> String? {
        guard lastFlushUnixNs != 0 else {
            let sinceStart = nowUnixNs > startedUnixNs ? nowUnixNs - startedUnixNs : 0
            return sinceStart <= max(maxAgeNs, 3 * intervalNs) ? nil : "no flush in the \(sinceStart / 1_000_000_000) s since start"
        }
        let bound = max(maxAgeNs, 3 * intervalNs)
        let age = nowUnixNs > lastFlushUnixNs ? nowUnixNs - lastFlushUnixNs : 0
        return age <= bound ? nil : "the agent last flushed \(age / 1_000_000) ms ago (bound \(bound / 1_000_000) ms)"
    }

    /// Ready once the programs are loaded and a flush went out.
    public var readiness: String? { lastFlushUnixNs == 0 ? "not flushed yet" : nil }

    /// The agent's own series, in the Prometheus text format.
    public func exposition(version: String) -> String {
        var p = PrometheusText()
        p.family("netobs_agent_build_info", "gauge", "1, labelled with the version the agent was built from.")
        p.sample("netobs_agent_build_info", [("version", version)], "1")
        p.family("netobs_agent_start_time_seconds", "gauge", "When the agent started (unix seconds).")
        p.sample("netobs_agent_start_time_seconds", [], String(startedUnixNs / 1_000_000_000))
        p.family("netobs_agent_last_flush_timestamp_seconds", "gauge", "When the agent last flushed its records (unix seconds; 0: not yet).")
        p.sample("netobs_agent_last_flush_timestamp_seconds", [], PrometheusText.number(Double(lastFlushUnixNs) / 1e9))
        p.family("netobs_agent_flush_interval_seconds", "gauge", "The agent's flush interval.")
        p.sample("netobs_agent_flush_interval_seconds", [], PrometheusText.number(Double(intervalNs) / 1e9))
        p.family("netobs_agent_flushes_total", "counter", "Flushes since start.")
        p.sample("netobs_agent_flushes_total", [], String(flushes))
        p.family("netobs_agent_records_total", "counter", "Records emitted since start, by kind.")
        for (kind, n) in recordsByKind.sorted(by: { $0.key < $1.key }) { p.sample("netobs_agent_records_total", [("kind", kind)], String(n)) }
        p.family("netobs_agent_lost_records_total", "counter",
                 "Records the agent could not keep since start, by reason (a full flow table, ring buffer or spool).")
        for (reason, n) in lostByReason.sorted(by: { $0.key < $1.key }) { p.sample("netobs_agent_lost_records_total", [("reason", reason)], String(n)) }
        p.family("netobs_agent_hook_tier", "gauge", "1 per kernel hook, labelled with the tier it runs on (btf, portable or off).")
        for hook in hooks { p.sample("netobs_agent_hook_tier", [("hook", hook.hook), ("tier", hook.tier)], "1") }
        p.family("netobs_agent_flows", "gauge", "Flows followed now, by table.")
        p.family("netobs_agent_flow_table_size", "gauge", "Entries the kernel flow table holds at most, by table (fill: flows / size).")
        for (table, flows, size) in [("tcp", tcpFlows, maxTCPFlows), ("udp", udpFlows, maxUDPFlows)] {
            guard let flows else { continue }
            p.sample("netobs_agent_flows", [("table", table)], String(flows))
            p.sample("netobs_agent_flow_table_size", [("table", table)], String(size))
        }
        p.family("netobs_agent_ring_fill_ratio", "gauge",
                 "Per BPF ring buffer, the highest share waiting to be read during the last flush interval (near 1: events "
                 + "are being dropped, counted in netobs_agent_lost_records_total).")
        for (ring, fill) in ringFill.sorted(by: { $0.key < $1.key }) {
            p.sample("netobs_agent_ring_fill_ratio", [("ring", ring)], PrometheusText.number(fill))
        }
        if let spoolBatches, let spoolBytes {
            p.family("netobs_agent_spool_batches", "gauge", "Batches in the spool not yet acknowledged by the controller.")
            p.sample("netobs_agent_spool_batches", [], String(spoolBatches))
            p.family("netobs_agent_spool_bytes", "gauge", "Bytes of those batches.")
            p.sample("netobs_agent_spool_bytes", [], String(spoolBytes))
        }
        ProcessMetrics.current()?.render(&p)
        return p.text
    }
}
