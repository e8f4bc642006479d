import CNetobsLayout

/// Swift view of `struct netobs_tcp_latency` (bpf/netobs_l7_layout.h): one TCP connection side's
/// cumulative request/response turns, as the kernel counts them with no protocol parser.
public struct TCPTurns: Sendable, Equatable {
    public var endpoints: Endpoints
    public var owner: Owner
    public var lastNs: UInt64
    public var requests: UInt64
    public var latencySumNs: UInt64
    /// The largest latency of the interval `maxEpoch` (per slot, `epoch & 1`).
    public var maxEpoch: (UInt32, UInt32)
    public var maxNs: (UInt64, UInt64)
    public var histogram: [UInt32]
    public var closed: Bool
    /// The epoch of the last change.
    public var changedEpoch: UInt32

    public init(endpoints: Endpoints, owner: Owner, lastNs: UInt64, requests: UInt64, latencySumNs: UInt64,
                maxEpoch: (UInt32, UInt32) = (0, 0), maxNs: (UInt64, UInt64) = (0, 0),
                histogram: [UInt32] = Array(repeating: 0, count: Int(NETOBS_LATENCY_BUCKETS)), closed: Bool = false,
                changedEpoch: UInt32 = 0) {
        self.endpoints = endpoints
        self.owner = owner
        self.lastNs = lastNs
        self.requests = requests
        self.latencySumNs = latencySumNs
        self.maxEpoch = maxEpoch
        self.maxNs = maxNs
        self.histogram = histogram
        self.closed = closed
        self.changedEpoch = changedEpoch
    }

    public init?(raw: UnsafeRawBufferPointer) {
        guard raw.count >= MemoryLayout<netobs_tcp_latency>.size else { return nil }
        let t = raw.loadUnaligned(as: netobs_tcp_latency.self)
        let hist = withUnsafeBytes(of: t.hist) { Array($0.bindMemory(to: UInt32.self)) }
        self.init(endpoints: Endpoints(t.ep), owner: Owner(t.owner), lastNs: t.last_ns, requests: t.requests,
                  latencySumNs: t.latency_sum_ns, maxEpoch: (t.max_epoch.0, t.max_epoch.1),
                  maxNs: (t.max_ns.0, t.max_ns.1), histogram: hist, closed: t.closed != 0, changedEpoch: t.changed_epoch)
    }

    /// What the agent looks at in every entry before deciding to decode it: when it last
    /// changed, whether it is closed, its last answer.
    public struct Header: Sendable, Equatable {
        public var changedEpoch: UInt32
        public var closed: Bool
        public var lastNs: UInt64

        public init?(raw: UnsafeRawBufferPointer) {
            typealias L = netobs_tcp_latency
            guard raw.count >= MemoryLayout<L>.size else { return nil }
            changedEpoch = raw.loadUnaligned(fromByteOffset: MemoryLayout<L>.offset(of: \L.changed_epoch)!, as: UInt32.self)
            closed = raw[MemoryLayout<L>.offset(of: \L.closed)!] != 0
            lastNs = raw.loadUnaligned(fromByteOffset: MemoryLayout<L>.offset(of: \L.last_ns)!, as: UInt64.self)
        }
    }

    /// The largest latency of interval `epoch`, 0 when none was recorded in it.
    public func maxNs(epoch: UInt32) -> UInt64 {
        epoch & 1 == 0 ? (maxEpoch.0 == epoch ? maxNs.0 : 0) : (maxEpoch.1 == epoch ? maxNs.1 : 0)
    }

    public static func == (a: TCPTurns, b: TCPTurns) -> Bool {
        a.endpoints == b.endpoints && a.owner == b.owner && a.lastNs == b.lastNs && a.requests == b.requests
            && a.latencySumNs == b.latencySumNs && a.maxEpoch == b.maxEpoch && a.maxNs == b.maxNs
            && a.histogram == b.histogram && a.closed == b.closed && a.changedEpoch == b.changedEpoch
    }
}

/// Log2 latency histograms (bucket b: [2^b, 2^(b+1)) µs; bucket 0 also below 1 µs).
public enum LatencyHistogram {
    /// The bucket of a latency, as the kernel computes it.
    public static func bucket(ns: UInt64) -> Int {
        let us = ns / 1000
        return us == 0 ? 0 : min(Int(NETOBS_LATENCY_BUCKETS) - 1, 63 - us.leadingZeroBitCount)
    }

    /// The `q` quantile (0...1) estimated as the upper bound of its bucket, clamped to `maxNs`
    /// when the maximum is known (the estimate is never above the largest sample).
    public static func quantile(_ q: Double, histogram: [UInt64], maxNs: UInt64) -> UInt64 {
        let total = histogram.reduce(0, +)
        guard total > 0 else { return 0 }
        let rank = max(1, UInt64((q * Double(total)).rounded(.up)))
        var seen: UInt64 = 0
        for (b, n) in histogram.enumerated() {
            seen += n
            if seen >= rank {
                let upper = (UInt64(1) << UInt64(b + 1)) * 1000
                return maxNs > 0 ? min(upper, maxNs) : upper
            }
        }
        return maxNs
    }
}

/// Turns the kernel's cumulative per-connection turns into per-interval `tcp_latency` records:
/// `req_count`, `req_latency_sum`, `req_latency_avg`, `req_latency_max`, `req_latency_p50`,
/// `req_latency_p90`, `req_latency_p99` (ns). Keeps the previous totals of each connection (by
/// socket cookie) until its entry leaves the map.
public struct TCPLatencyTracker: Sendable {
    struct Totals: Sendable {
        var requests: UInt64
        var latencySumNs: UInt64
        var histogram: [UInt32]
    }

    private var previous: [UInt64: Totals] = [:]

    public init() {}

    public var connections: Int { previous.count }

    /// Records for the interval `endedEpoch`, from the entries that changed since the last call;
    /// `removed`: the connections whose entries left the map.
    public mutating func flush(_ changed: [(UInt64, TCPTurns)], removed: [UInt64] = [], endedEpoch: UInt32,
                               nowMonotonicNs now: UInt64, context: RecordContext) -> [Record] {
        var records: [Record] = []
        for (key, t) in changed {
            let before = previous[key] ?? Totals(requests: 0, latencySumNs: 0,
                                                 histogram: Array(repeating: 0, count: t.histogram.count))
            previous[key] = Totals(requests: t.requests, latencySumNs: t.latencySumNs, histogram: t.histogram)
            let count = t.requests &- before.requests
            guard count > 0, count < 1 << 62 else { continue }
            let sum = t.latencySumNs &- before.latencySumNs
            let hist = zip(t.histogram, before.histogram + Array(repeating: 0, count: max(0, t.histogram.count - before.histogram.count)))
                .map { UInt64($0 &- $1) }
            // The interval's maximum; when the kernel's slot missed it (a race at the epoch
            // switch), the highest non-empty bucket's bound.
            var maxNs = t.maxNs(epoch: endedEpoch)
            if maxNs == 0 { maxNs = LatencyHistogram.quantile(1, histogram: hist, maxNs: 0) }
            var r = context.flowRecord(kind: "tcp_latency", monotonicNs: now, endpoints: t.endpoints, owner: t.owner)
            r.set("req_count", .uint(count))
            r.set("req_latency_sum", .uint(sum))
            r.set("req_latency_avg", .uint(sum / count))
            r.set("req_latency_max", .uint(maxNs))
            r.set("req_latency_p50", .uint(LatencyHistogram.quantile(0.5, histogram: hist, maxNs: maxNs)))
            r.set("req_latency_p90", .uint(LatencyHistogram.quantile(0.9, histogram: hist, maxNs: maxNs)))
            r.set("req_latency_p99", .uint(LatencyHistogram.quantile(0.99, histogram: hist, maxNs: maxNs)))
            records.append(r)
        }
        for key in removed { previous.removeValue(forKey: key) }
        return records
    }
}
