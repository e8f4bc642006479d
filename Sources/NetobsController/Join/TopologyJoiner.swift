import NetobsTopology
import Synchronization

/// Adds topology to agent records (JSON lines, see DESIGN.md): for each side with an address,
/// `src_pod`/`src_ns` (`dst_…` alike), and where known `…_workload`, `…_node`, `…_service`.
///
/// - A pod address names the pod; a deleted pod's address still does for the store's grace
///   period (unless a live pod has taken it).
/// - A node address names the node: `…_pod` is `node:<name>`, `…_ns` empty.
/// - A service cluster IP as destination gives `dst_service`, and the backend pod as
///   `dst_pod` when the service has exactly one; otherwise `dst_pod` is `service:<name>`.
/// - An address and port serving a service (the server's side of a flow) adds `…_service`.
/// - The record's `pod_uid`, when present and known, names the source pod: host-network
///   pods share their node's address and are only told apart that way.
/// - Anything else is `external`. No record is ever dropped: one that is not a JSON object
///   or is already joined passes unchanged (and is counted).
///
/// The fields are appended before the closing brace; the record is not parsed or rewritten.
public final class TopologyJoiner: Sendable {
    public struct Counters: Sendable, Equatable {
        public var joined = 0
        /// Records with neither `src_ip` nor `dst_ip` (loss reports, for example).
        public var withoutAddresses = 0
        public var alreadyJoined = 0
        /// Not a JSON object: passed on unchanged.
        public var malformed = 0

        public init(joined: Int = 0, withoutAddresses: Int = 0, alreadyJoined: Int = 0, malformed: Int = 0) {
            self.joined = joined
            self.withoutAddresses = withoutAddresses
            self.alreadyJoined = alreadyJoined
            self.malformed = malformed
        }
    }

    /// The topology it joins with (its sources' health is read from it for /metrics).
    public let store: TopologyStore
    private let clock: @Sendable () -> UInt64
    private let minRebuildIntervalNs: UInt64
    private let index = Mutex<(index: JoinIndex, builtNs: UInt64)?>(nil)
    private let counters = Mutex(Counters())

    /// `minRebuildInterval`: the join index of a large cluster takes a while to build (about
    /// 0.1 s for 10k pods), so under constant churn it is rebuilt at most this often; changes
    /// show in the join after at most this delay.
    public init(store: TopologyStore, minRebuildInterval: Duration = .milliseconds(500),
                clock: @escaping @Sendable () -> UInt64 = MonotonicClock.nowNs) {
        self.store = store
        self.clock = clock
        let (seconds, attoseconds) = minRebuildInterval.components
        minRebuildIntervalNs = UInt64(max(0, seconds)) * 1_000_000_000 + UInt64(max(0, attoseconds) / 1_000_000_000)
    }

    public var counts: Counters { counters.withLock { $0 } }

    /// The records with their join fields, in the same order (one output per input).
    public func join(_ records: [[UInt8]]) -> [[UInt8]] {
        let index = currentIndex()
        var batch = Counters()
        let out = index.bytes.withUnsafeBytes { fragments in
            let tables = JoinTables(index, fragments)
            return records.map { tables.join($0, &batch) }
        }
        counters.withLock {
            $0.joined += batch.joined
            $0.withoutAddresses += batch.withoutAddresses
            $0.alreadyJoined += batch.alreadyJoined
            $0.malformed += batch.malformed
        }
        return out
    }

    public func join(_ record: [UInt8]) -> [UInt8] { join([record])[0] }

    /// The index of the store's current topology, rebuilt when it changed or a deleted pod's
    /// grace period ran out.
    private func currentIndex() -> JoinIndex {
        let generation = store.generation
        return index.withLock { cached in
            let now = clock()
            if let (index, builtNs) = cached {
                let current = index.generation == generation && index.staleAfterNs.map { now < $0 } ?? true
                if current || now &- builtNs < minRebuildIntervalNs { return index }
            }
            let fresh = JoinIndex(store.view())
            cached = (fresh, now)
            return fresh
        }
    }
}
