import CNetobsLayout

/// Drops of packets that carried no socket are counted in the kernel by connection tuple
/// (netobs_tcp_drops). This adds them to the flows with the same tuple; what matches no flow
/// is reported as unattributed.
public enum DropAttribution {
    public struct TupleDrops: Sendable, Equatable {
        public var drops: UInt32
        public var lastReason: UInt32
        public var reasons: [UInt32]

        public init(drops: UInt32, lastReason: UInt32, reasons: [UInt32]) {
            self.drops = drops
            self.lastReason = lastReason
            self.reasons = reasons
        }

        public init?(raw: UnsafeRawBufferPointer) {
            guard raw.count >= MemoryLayout<netobs_tuple_drops>.size else { return nil }
            let d = raw.loadUnaligned(as: netobs_tuple_drops.self)
            self.init(drops: d.drops, lastReason: d.last_drop_reason,
                      reasons: TCPFlowSample.reasons(low: d.drop_reasons.0, high: d.drop_reasons.1))
        }
    }

    public struct Result: Sendable {
        public var live: [TCPFlowSample]
        public var closed: [TCPFlowSample]
        /// Tuple keys to delete from the kernel map: those of closed flows and unmatched ones.
        public var finishedKeys: [[UInt8]]
        /// Drops that matched no flow.
        public var unattributed: UInt64
    }

    public static func merge(live: [TCPFlowSample], closed: [TCPFlowSample],
                             drops: [[UInt8]: TupleDrops]) -> Result {
        var matched = Set<[UInt8]>()
        var finished: [[UInt8]] = []
        func add(_ sample: TCPFlowSample) -> TCPFlowSample {
            let key = tupleKey(sample.endpoints)
            guard let d = drops[key] else { return sample }
            matched.insert(key)
            var s = sample
            s.drops &+= d.drops
            s.dropReasons = Array(Set(s.dropReasons).union(d.reasons)).sorted()
            return s
        }
        let mergedLive = live.map(add)
        let mergedClosed = closed.map { sample -> TCPFlowSample in
            let merged = add(sample)
            finished.append(tupleKey(sample.endpoints))
            return merged
        }
        var unattributed: UInt64 = 0
        for (key, d) in drops where !matched.contains(key) {
            unattributed += UInt64(d.drops)
            finished.append(key)
        }
        return Result(live: mergedLive, closed: mergedClosed,
                      finishedKeys: Array(Set(finished).filter { drops[$0] != nil }), unattributed: unattributed)
    }

    /// The bytes of `struct netobs_tuple` for a flow's endpoints.
    public static func tupleKey(_ e: Endpoints) -> [UInt8] {
        var t = netobs_tuple()
        withUnsafeMutableBytes(of: &t.local_addr) { $0.copyBytes(from: e.localAddr.prefix(16)) }
        withUnsafeMutableBytes(of: &t.remote_addr) { $0.copyBytes(from: e.remoteAddr.prefix(16)) }
        t.local_port = e.localPort
        t.remote_port = e.remotePort
        t.netns = e.netns
        return withUnsafeBytes(of: t) { Array($0) }
    }
}
