import NetobsRecords
import Synchronization

/// The metrics tables behind a lock: fed by the stream hub's observer, read by /metrics.
public final class MetricsStore: Sendable {
    public struct Limits: Sendable {
        public var maxPods: Int
        public var maxEdges: Int
        public init(maxPods: Int = 1_000, maxEdges: Int = 5_000) {
            self.maxPods = maxPods
            self.maxEdges = maxEdges
        }
    }

    private let tables: Mutex<MetricsTables>

    public init(limits: Limits = Limits()) {
        tables = Mutex(MetricsTables(limits: .init(maxPods: limits.maxPods, maxEdges: limits.maxEdges)))
    }

    public func add(_ views: [RecordView]) {
        tables.withLock { t in for v in views { t.add(v) } }
    }

    /// The exposition text; the lock is held only to copy the tables.
    public func exposition(_ own: ControllerSelfMetrics) -> String {
        MetricsExposition.render(tables.withLock { $0 }, own)
    }
}
