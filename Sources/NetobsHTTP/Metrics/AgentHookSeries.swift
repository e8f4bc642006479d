import NetobsWire

/// The hook report one agent sent in its latest Hello, as the controller's registry keeps it
/// (also after the agent disconnected).
public struct AgentHookReport: Sendable, Equatable {
    public var node: String
    public var hooks: [HookStatus]

    public init(node: String, hooks: [HookStatus]) {
        self.node = node
        self.hooks = hooks
    }
}

/// `netobs_agent_hook_tier` and `netobs_agent_metrics_off`, rendered from the registry at scrape
/// time: the series of a node are always those of its latest report, so a tier change replaces the
/// old series instead of leaving it behind. Agents that sent no report get no series.
enum AgentHookSeries {
    static func render(_ p: inout PrometheusText, _ reports: [AgentHookReport]) {
        let reports = reports.filter { !$0.hooks.isEmpty }.sorted { $0.node < $1.node }
        p.family("netobs_agent_hook_tier", "gauge",
                 "1 for the tier (btf, portable, off) each agent runs each kernel hook on, from its latest Hello.")
        for r in reports {
            for h in r.hooks.lastPerHook.sorted(by: { $0.hook < $1.hook }) {
                p.sample("netobs_agent_hook_tier", [(MetricLabels.node, r.node), ("hook", h.hook), ("tier", h.tier)], "1")
            }
        }
        p.family("netobs_agent_metrics_off", "gauge",
                 "Distinct Table-1 metrics the agent's hooks leave off on its host, from its latest Hello.")
        for r in reports {
            let off = Set(r.hooks.lastPerHook.flatMap(\.metricsOff))
            p.sample("netobs_agent_metrics_off", [(MetricLabels.node, r.node)], String(off.count))
        }
    }
}
