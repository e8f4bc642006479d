/// Table-1 metrics a host cannot give are left out of the records, with the fields that go with
/// them: a metric that is off is absent, never 0.
public enum MetricsOff {
    /// Fields that only make sense with the Table-1 field they follow.
    static let companions: [String: [String]] = [
        "tcp_old_state": ["tcp_old_state_duration"],
        "tcp_rtt": ["tcp_rtt_min", "tcp_rtt_max"],
        "tcp_drop": ["tcp_drop_reasons"],
        "udp_tx_bytes": ["udp_tx_packets"],
        "udp_rx_bytes": ["udp_rx_packets"],
    ]

    /// The record fields to leave out when `metrics` are off.
    public static func fields(_ metrics: Set<String>) -> Set<String> {
        metrics.union(metrics.flatMap { companions[$0] ?? [] })
    }
}
