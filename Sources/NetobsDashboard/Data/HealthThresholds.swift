/// When an edge turns amber or red. Red: the calls fail (5xx share at or above
/// `failingErrorRate`, or connections refused/reset). Amber: anything short of that which an
/// operator should look at (some errors, retransmits, drops, a slow p99).
public struct HealthThresholds: Sendable, Equatable {
    public var failingErrorRate: Double
    public var degradedP99Ns: UInt64

    public init(failingErrorRate: Double = 0.05, degradedP99Ns: UInt64 = 500_000_000) {
        self.failingErrorRate = failingErrorRate
        self.degradedP99Ns = degradedP99Ns
    }

    public func health(errorRate: Double, p99Ns: UInt64?, retransmits: UInt64, drops: UInt64,
                       connectionErrors: UInt64) -> Health {
        if errorRate >= failingErrorRate || connectionErrors > 0 { return .failing }
        if errorRate > 0 || retransmits > 0 || drops > 0 || (p99Ns ?? 0) >= degradedP99Ns { return .degraded }
        return .healthy
    }
}
