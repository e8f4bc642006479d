/// Reports what the kernel side could not record, as `kind: "loss"` records with the count
/// since the last flush and the running total: nothing is lost silently.
public struct LossTracker: Sendable {
    /// Names in the order of `enum netobs_loss` (bpf/netobs_layout.h).
    public static let kernelReasons = [
        "tcp_flow_table_full", "tcp_drop_map_full", "udp_flow_map_full",
        "closed_flow_ringbuf_full", "udp_peer_map_full", "tcp_closed_flow_overwritten", "tcp_flow_end_missed",
    ]

    private var previous: [String: UInt64] = [:]

    public init() {}

    public mutating func flush(totals: [String: UInt64], nowMonotonicNs: UInt64, context: RecordContext) -> [Record] {
        totals.keys.sorted().compactMap { reason in
            let total = totals[reason] ?? 0
            let delta = total &- (previous[reason] ?? 0)
            previous[reason] = total
            guard delta > 0 else { return nil }
            var r = Record(kind: "loss")
            r.set("ts_ns", .uint(context.unixNs(monotonic: nowMonotonicNs)))
            r.set("node", .string(context.node))
            r.set("reason", .string(reason))
            r.set("count", .uint(delta))
            r.set("total", .uint(total))
            return r
        }
    }
}
