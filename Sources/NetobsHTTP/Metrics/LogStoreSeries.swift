import NetobsController

/// The durable logs' series, read from the store at scrape time: what the logs hold, what
/// retention dropped per node, torn tails cut at open, and appends that failed (a full disk).
enum LogStoreSeries {
    static func render(_ p: inout PrometheusText, _ s: LogStoreStats?) {
        guard let s else { return }
        gauge(&p, "netobs_log_bytes", "Bytes of every agent's durable log (all segments).", UInt64(s.bytes))
        gauge(&p, "netobs_log_segments", "Segment files of every agent's durable log.", UInt64(s.segments))
        gauge(&p, "netobs_log_retention_limit_bytes", "Retention bound on the bytes of all agents' logs (0: none).",
              UInt64(s.retention.maxBytes ?? 0))
        gauge(&p, "netobs_log_retention_age_seconds", "Retention bound on the age of a segment's newest batch (0: none).",
              (s.retention.maxAgeNs ?? 0) / 1_000_000_000)
        if let free = s.volumeFreeBytes {
            gauge(&p, "netobs_log_volume_free_bytes", "Free bytes on the volume of the data directory.", free)
        }
        let dropped = s.dropped.keys.sorted()
        for (name, help, path) in [
            ("netobs_log_retention_dropped_batches_total", "Stored batches of the node dropped by log retention, by bound (bytes or age).", \DropCount.batches),
            ("netobs_log_retention_dropped_records_total", "Stored records of the node dropped by log retention, by bound (bytes or age).", \DropCount.records),
        ] {
            p.family(name, "counter", help)
            for node in dropped {
                for (reason, count) in s.dropped[node]!.sorted(by: { $0.key < $1.key }) {
                    p.sample(name, [("exported_node", node), ("reason", reason.rawValue)], String(count[keyPath: path]))
                }
            }
        }
        counter(&p, "netobs_log_torn_tails_total", "Logs whose last entry was incomplete at open (a crash mid-write) and was cut.", s.tornTails)
        counter(&p, "netobs_log_torn_bytes_total", "Bytes of incomplete entries cut at open.", s.tornBytes)
        p.family("netobs_log_append_failures_total", "counter",
                 "Appends that failed (not acknowledged: the agent sends the batch again), by reason: disk_full, quota, io_error, other.")
        for reason in AppendHealth.Failure.allCases {
            p.sample("netobs_log_append_failures_total", [("reason", reason.rawValue)], String(s.appendFailures[reason] ?? 0))
        }
        gauge(&p, "netobs_log_appends_blocked", "1 while appends fail and agents are held back until there is room.",
              s.appendsBlocked ? 1 : 0)
    }

    private static func gauge(_ p: inout PrometheusText, _ name: String, _ help: String, _ value: UInt64) {
        p.family(name, "gauge", help)
        p.sample(name, [:], value)
    }

    private static func counter(_ p: inout PrometheusText, _ name: String, _ help: String, _ value: UInt64) {
        p.family(name, "counter", help)
        p.sample(name, [:], value)
    }
}
