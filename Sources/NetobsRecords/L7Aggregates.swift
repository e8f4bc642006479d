import CNetobsLayout

/// Swift view of `struct netobs_l7_aggregate_key`: what one `http_aggregate` or `dns_aggregate`
/// record stands for.
public struct L7AggregateKey: Sendable, Hashable {
    /// `result` of DNS queries the agent timed out (no kernel rcode is this large).
    public static let dnsTimeout = UInt16.max

    public var kind: L7Event.Kind
    public var cgroupID: UInt64
    public var textID: UInt64
    public var localAddr: [UInt8]
    public var remoteAddr: [UInt8]
    public var netns: UInt32
    public var serverPort: UInt16
    /// HTTP status (0: unanswered) or DNS rcode (`dnsTimeout`: no answer).
    public var result: UInt16
    /// HTTP method or DNS query type.
    public var code: UInt16
    public var role: UInt8
    public var ipVersion: UInt8
    public var httpVersion: UInt8

    public init(kind: L7Event.Kind, cgroupID: UInt64, textID: UInt64, localAddr: [UInt8], remoteAddr: [UInt8],
                netns: UInt32, serverPort: UInt16, result: UInt16, code: UInt16, role: UInt8, ipVersion: UInt8,
                httpVersion: UInt8 = 0) {
        self.kind = kind
        self.cgroupID = cgroupID
        self.textID = textID
        self.localAddr = localAddr
        self.remoteAddr = remoteAddr
        self.netns = netns
        self.serverPort = serverPort
        self.result = result
        self.code = code
        self.role = role
        self.ipVersion = ipVersion
        self.httpVersion = httpVersion
    }

    public init?(raw: UnsafeRawBufferPointer) {
        guard raw.count >= MemoryLayout<netobs_l7_aggregate_key>.size else { return nil }
        let k = raw.loadUnaligned(as: netobs_l7_aggregate_key.self)
        guard let kind = L7Event.Kind(rawValue: k.kind) else { return nil }
        self.init(kind: kind, cgroupID: k.cgroup_id, textID: k.text_id,
                  localAddr: withUnsafeBytes(of: k.local_addr) { Array($0) },
                  remoteAddr: withUnsafeBytes(of: k.remote_addr) { Array($0) }, netns: k.netns,
                  serverPort: k.server_port, result: k.result, code: k.code, role: k.role, ipVersion: k.ip_version,
                  httpVersion: k.http_version)
    }

    /// The kernel's bytes of this key (to read or delete it).
    public var raw: [UInt8] {
        var k = netobs_l7_aggregate_key()
        k.cgroup_id = cgroupID
        k.text_id = textID
        withUnsafeMutableBytes(of: &k.local_addr) { $0.copyBytes(from: localAddr.prefix(16)) }
        withUnsafeMutableBytes(of: &k.remote_addr) { $0.copyBytes(from: remoteAddr.prefix(16)) }
        k.netns = netns
        k.server_port = serverPort
        k.result = result
        k.code = code
        k.kind = kind.rawValue
        k.role = role
        k.ip_version = ipVersion
        k.http_version = httpVersion
        return withUnsafeBytes(of: k) { Array($0) }
    }

    /// The key a DNS query that got no answer counts under.
    public static func timeout(_ e: L7Event) -> L7AggregateKey {
        let ep = e.endpoints
        return L7AggregateKey(kind: .dns, cgroupID: e.owner.cgroupID, textID: e.textID, localAddr: ep.localAddr,
                              remoteAddr: ep.remoteAddr, netns: ep.netns,
                              serverPort: ep.role == 1 ? ep.remotePort : ep.localPort, result: dnsTimeout,
                              code: e.dnsQueryType, role: ep.role, ipVersion: ep.ipVersion)
    }
}

/// Exchanges of one key: cumulative totals as read from the kernel, or the delta of an interval.
public struct L7AggregateCounts: Sendable, Equatable {
    public var count: UInt64
    public var sumNs: UInt64
    /// Log2 µs buckets (`LatencyHistogram`), NETOBS_LATENCY_BUCKETS of them.
    public var histogram: [UInt64]
    /// The largest duration of the interval that just ended (0: not known).
    public var maxNs: UInt64

    public static let buckets = Int(NETOBS_LATENCY_BUCKETS)

    public init(count: UInt64 = 0, sumNs: UInt64 = 0, histogram: [UInt64] = Array(repeating: 0, count: buckets),
                maxNs: UInt64 = 0) {
        self.count = count
        self.sumNs = sumNs
        self.histogram = histogram
        self.maxNs = maxNs
    }

    /// The per-CPU values of one key (`struct netobs_l7_aggregate` each, 8-byte aligned), summed;
    /// `maxNs` is the largest of interval `endedEpoch`.
    public init?(perCPU raw: UnsafeRawBufferPointer, cpus: Int, endedEpoch: UInt32) {
        let size = MemoryLayout<netobs_l7_aggregate>.size
        let stride = (size + 7) & ~7
        guard cpus > 0, raw.count >= stride * (cpus - 1) + size else { return nil }
        self.init()
        for cpu in 0..<cpus {
            let a = raw.loadUnaligned(fromByteOffset: cpu * stride, as: netobs_l7_aggregate.self)
            count &+= a.count
            sumNs &+= a.duration_sum_ns
            withUnsafeBytes(of: a.hist) { hist in
                for b in 0..<Self.buckets {
                    histogram[b] &+= UInt64(hist.loadUnaligned(fromByteOffset: b * 4, as: UInt32.self))
                }
            }
            let slot = endedEpoch & 1 == 0 ? (a.max_epoch.0, a.max_ns.0) : (a.max_epoch.1, a.max_ns.1)
            if slot.0 == endedEpoch { maxNs = max(maxNs, slot.1) }
        }
    }

    /// What was added since `before` (a key made anew since then counts from zero). The
    /// kernel's buckets are 32-bit per CPU, so a bucket's delta is taken modulo 2^32 (an
    /// interval never adds 2^32 exchanges to one key).
    public func since(_ before: L7AggregateCounts) -> L7AggregateCounts {
        guard count >= before.count else { return self }
        var delta = L7AggregateCounts(count: count - before.count, sumNs: sumNs &- before.sumNs, maxNs: maxNs)
        for b in 0..<min(histogram.count, before.histogram.count) {
            delta.histogram[b] = UInt64(UInt32(truncatingIfNeeded: histogram[b] &- before.histogram[b]))
        }
        return delta
    }

    public mutating func add(_ other: L7AggregateCounts) {
        count += other.count
        sumNs &+= other.sumNs
        maxNs = max(maxNs, other.maxNs)
        for b in 0..<min(histogram.count, other.histogram.count) { histogram[b] += other.histogram[b] }
    }

    /// One exchange of `ns`.
    public mutating func add(ns: UInt64) {
        count += 1
        sumNs &+= ns
        maxNs = max(maxNs, ns)
        histogram[LatencyHistogram.bucket(ns: ns)] += 1
    }

    /// The interval's maximum: the kernel's, or when it missed it (a race at the epoch switch)
    /// the upper bound of the highest bucket used.
    public var knownMaxNs: UInt64 {
        maxNs > 0 ? maxNs : LatencyHistogram.quantile(1, histogram: histogram, maxNs: 0)
    }
}

/// Turns the kernel's cumulative per-key totals into per-interval deltas, and says which keys
/// stayed unchanged long enough to be removed from the map (then their last totals come back
/// through `removed`, read and deleted at once, so nothing counted in between is lost).
public struct L7AggregateDeltas: Sendable {
    private var previous: [L7AggregateKey: (counts: L7AggregateCounts, idle: Int)] = [:]
    /// Flush intervals with no change after which a key leaves the map.
    public let idleIntervals: Int

    public init(idleIntervals: Int = 60) {
        self.idleIntervals = max(1, idleIntervals)
    }

    public var keys: Int { previous.count }

    /// The deltas of one read of the whole map (keys with no change left out), and the keys
    /// idle for `idleIntervals`.
    public mutating func update(_ current: [(L7AggregateKey, L7AggregateCounts)])
        -> (deltas: [(L7AggregateKey, L7AggregateCounts)], idle: [L7AggregateKey]) {
        var deltas: [(L7AggregateKey, L7AggregateCounts)] = []
        var idle: [L7AggregateKey] = []
        for (key, counts) in current {
            let before = previous[key]
            let delta = counts.since(before?.counts ?? L7AggregateCounts())
            if delta.count > 0 {
                deltas.append((key, delta))
                previous[key] = (counts, 0)
            } else {
                let quiet = (before?.idle ?? 0) + 1
                previous[key] = (counts, quiet)
                if quiet >= idleIntervals { idle.append(key) }
            }
        }
        return (deltas, idle)
    }

    /// A key taken out of the map with its last totals: what was added since the last read
    /// (usually nothing). The key starts from zero if the kernel makes it again.
    public mutating func removed(_ key: L7AggregateKey, final: L7AggregateCounts?) -> L7AggregateCounts? {
        let before = previous.removeValue(forKey: key)?.counts ?? L7AggregateCounts()
        guard let final else { return nil }
        let delta = final.since(before)
        return delta.count > 0 ? delta : nil
    }
}
