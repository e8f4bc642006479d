import NetobsWire

/// Per-agent series from the controller's registry, read at scrape time: whether each agent is
/// connected, how far behind it is, what it reported lost, and its heartbeat counters. Every
/// agent seen since the controller started has them (a disconnected one keeps its last values),
/// so "disconnected" and "silent" can be alerted on.
enum AgentSeries {
    static func render(_ p: inout PrometheusText, _ agents: [AgentStatus], nowNs: UInt64) {
        let agents = agents.sorted { $0.nodeName < $1.nodeName }
        func each(_ name: String, _ type: String, _ help: String, _ value: (AgentStatus) -> String?) {
            p.family(name, type, help)
            for a in agents {
                if let v = value(a) { p.sample(name, [(MetricLabels.node, a.nodeName)], v) }
            }
        }
        each("netobs_agent_connected", "gauge", "1 while the agent has a session with this controller, 0 after it went away.") {
            $0.connected ? "1" : "0"
        }
        each("netobs_agent_last_batch_age_seconds", "gauge",
             "Seconds since the agent's last batch was stored (no sample before its first batch).") { a in
            guard a.lastBatchNs > 0 else { return nil }
            return PrometheusText.number(Double(nowNs > a.lastBatchNs ? nowNs - a.lastBatchNs : 0) / 1e9)
        }
        each("netobs_agent_unacked_batches", "gauge",
             "Highest batch sequence received from the agent minus the highest stored and acknowledged.") {
            String($0.seenSequence &- min($0.seenSequence, $0.ackedSequence))
        }
        each("netobs_agent_lost_records_total", "counter",
             "Records the agent reported it could not record (the counts of its stored loss records).") {
            String($0.lostRecords)
        }
        p.family("netobs_agent_heartbeat_value", "gauge", "The counters of the agent's latest heartbeat, by name, as it sent them.")
        for a in agents {
            for c in a.counters.sorted(by: { $0.name < $1.name }) {
                p.sample("netobs_agent_heartbeat_value", [(MetricLabels.node, a.nodeName), ("name", c.name)], String(c.value))
            }
        }
    }
}
