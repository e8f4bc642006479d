import NetobsRecords
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// The metrics tables behind a lock: fed by the stream hub's observer, read by /metrics.
public final class MetricsStore: Sendable {
    public struct Limits: Sendable {
        public var maxPods: Int
        public var maxEdges: Int
        /// A pod or edge series with no record for this long leaves /metrics (0: never).
        public var idleGrace: Duration
        public init(maxPods: Int = 1_000, maxEdges: Int = 5_000, idleGrace: Duration = .seconds(600)) {
            self.maxPods = maxPods
            self.maxEdges = maxEdges
            self.idleGrace = idleGrace
        }
    }

    private let tables: Mutex<MetricsTables>
    private let clock: @Sendable () -> UInt64

    /// `clock`: monotonic ns, for idleness (tests pass their own).
    public init(limits: Limits = Limits(), clock: @escaping @Sendable () -> UInt64 = MetricsStore.monotonicNs) {
        let (seconds, attoseconds) = limits.idleGrace.components
        let graceNs = UInt64(max(0, seconds)) * 1_000_000_000 + UInt64(max(0, attoseconds) / 1_000_000_000)
        tables = Mutex(MetricsTables(limits: .init(maxPods: limits.maxPods, maxEdges: limits.maxEdges, idleGraceNs: graceNs)))
        self.clock = clock
    }

    public func add(_ views: [RecordView]) {
        let now = clock()
        tables.withLock { t in for v in views { t.add(v, nowNs: now) } }
    }

    /// The exposition text; the lock is held only to forget idle keys and copy the tables.
    public func exposition(_ own: ControllerSelfMetrics) -> String {
        let now = clock()
        return MetricsExposition.render(tables.withLock { t in
            t.evictIdle(nowNs: now)
            return t
        }, own)
    }

    public static func monotonicNs() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
    }
}
