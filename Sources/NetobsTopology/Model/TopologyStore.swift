import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// The topology cache shared by the sources (writers) and the join (reader), safe from any thread.
///
/// A deleted pod is kept for `gracePeriodNs` as "recently deleted": its flows are still being
/// reported (the agent flushes closed flows after the pod is gone), so they must still join.
/// A live pod with the same address always wins over a recently deleted one.
public final class TopologyStore: Sendable {
    /// What the join reads: the live state, the pods deleted within the grace period, and the
    /// generation, which changes on every change (including a tombstone expiring).
    public struct View: Sendable {
        public var state: TopologyState
        public var recentlyDeleted: [TopologyPod]
        public var generation: UInt64
        /// Monotonic ns when the next recently deleted pod expires (the view is stale after it).
        public var nextExpiryNs: UInt64?
    }

    /// A deleted pod is one incarnation: a pod recreated under the same name (a new uid,
    /// often a new address) does not end the grace of the old one.
    private struct Incarnation: Hashable {
        var key: ObjectKey
        var uid: String
        init(_ pod: TopologyPod) { key = pod.key; uid = pod.uid }
    }

    private struct Inner {
        var state = TopologyState()
        var deleted: [Incarnation: (pod: TopologyPod, expiresNs: UInt64)] = [:]
        var generation: UInt64 = 0
    }

    public let gracePeriodNs: UInt64
    /// How the sources filling this store keep up (for /metrics).
    public let health = TopologyHealth()
    private let clock: @Sendable () -> UInt64
    private let inner = Mutex(Inner())
    private let generationValue = Atomic<UInt64>(0)

    public init(gracePeriodNs: UInt64 = 60_000_000_000, clock: @escaping @Sendable () -> UInt64 = MonotonicClock.nowNs) {
        self.gracePeriodNs = gracePeriodNs
        self.clock = clock
    }

    /// Cheap to read on every batch: compare with the generation of the last view.
    public var generation: UInt64 { generationValue.load(ordering: .acquiring) }

    public func upsert<T: TopologyObject>(_ object: T) {
        change { inner, now in
            let old = inner.state[keyPath: T.storage][object.key]
            guard old != object else { return false }
            if let old = old as? TopologyPod, let pod = object as? TopologyPod, old.uid != pod.uid {
                inner.deleted[Incarnation(old)] = (old, now &+ gracePeriodNs)  // replaced without a delete
            }
            inner.state[keyPath: T.storage][object.key] = object
            if let pod = object as? TopologyPod { inner.deleted[Incarnation(pod)] = nil }
            return true
        }
    }

    public func delete<T: TopologyObject>(_ type: T.Type, _ key: ObjectKey) {
        change { inner, now in
            guard let old = inner.state[keyPath: T.storage].removeValue(forKey: key) else { return false }
            if let pod = old as? TopologyPod { inner.deleted[Incarnation(pod)] = (pod, now &+ gracePeriodNs) }
            return true
        }
    }

    /// Replaces every object of one kind (a relist): objects not in `objects` are deleted.
    public func replace<T: TopologyObject>(all objects: [T]) {
        var fresh: [ObjectKey: T] = [:]
        for object in objects { fresh[object.key] = object }
        change { inner, now in
            let old = inner.state[keyPath: T.storage]
            guard old != fresh else { return false }
            for (key, object) in old {
                guard let pod = object as? TopologyPod, (fresh[key] as? TopologyPod)?.uid != pod.uid else { continue }
                inner.deleted[Incarnation(pod)] = (pod, now &+ gracePeriodNs)
            }
            for object in fresh.values {
                if let pod = object as? TopologyPod { inner.deleted[Incarnation(pod)] = nil }
            }
            inner.state[keyPath: T.storage] = fresh
            return true
        }
    }

    /// Replaces everything (a file source reloading).
    public func replace(with state: TopologyState) {
        replace(all: Array(state.pods.values))
        replace(all: Array(state.services.values))
        replace(all: Array(state.endpointSlices.values))
        replace(all: Array(state.nodes.values))
    }

    public var state: TopologyState { inner.withLock { $0.state } }

    public func view() -> View {
        let now = clock()
        return inner.withLock { inner in
            if expire(&inner, now: now) { bump(&inner) }
            return View(state: inner.state, recentlyDeleted: inner.deleted.values.map(\.pod),
                        generation: inner.generation, nextExpiryNs: inner.deleted.values.map(\.expiresNs).min())
        }
    }

    private func change(_ body: (inout Inner, UInt64) -> Bool) {
        let now = clock()
        inner.withLock { inner in
            let expired = expire(&inner, now: now)
            if body(&inner, now) || expired { bump(&inner) }
        }
    }

    private func expire(_ inner: inout Inner, now: UInt64) -> Bool {
        let before = inner.deleted.count
        inner.deleted = inner.deleted.filter { $0.value.expiresNs > now }
        return inner.deleted.count != before
    }

    private func bump(_ inner: inout Inner) {
        inner.generation &+= 1
        generationValue.store(inner.generation, ordering: .releasing)
    }
}

public enum MonotonicClock {
    @Sendable public static func nowNs() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
    }
}
