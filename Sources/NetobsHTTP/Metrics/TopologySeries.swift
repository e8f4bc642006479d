import NetobsTopology

/// The topology feeds' health, one series per (source, resource): whether the watch (or file)
/// is up, when it was last known current, and its relists, failures and applied changes.
enum TopologySeries {
    static func render(_ p: inout PrometheusText, _ feeds: [TopologyWatchHealth]) {
        func each(_ name: String, _ type: String, _ help: String, _ value: (TopologyWatchHealth) -> String) {
            p.family(name, type, help)
            for f in feeds { p.sample(name, [("source", f.source), ("resource", f.resource)], value(f)) }
        }
        each("netobs_topology_watch_up", "gauge",
             "1 while the topology feed's latest request succeeded (watch open, file loaded), 0 after a failure.") {
            $0.up ? "1" : "0"
        }
        each("netobs_topology_last_sync_timestamp_seconds", "gauge",
             "Unix time the feed was last known current (a list, a watch event or bookmark, a file check).") {
            PrometheusText.number(Double($0.lastSyncNs) / 1e9)
        }
        each("netobs_topology_relists_total", "counter",
             "Full relists after the first (the watch's resourceVersion expired), or topology file reloads.") { String($0.relists) }
        each("netobs_topology_watch_failures_total", "counter",
             "Watch or list requests that failed (dropped, refused, bad status), or file reloads that failed.") { String($0.failures) }
        each("netobs_topology_events_total", "counter", "Changes applied from the feed (watch events, file loads).") { String($0.events) }
    }
}
