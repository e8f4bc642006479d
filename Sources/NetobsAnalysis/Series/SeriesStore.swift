/// The time-series store: one fixed ring of raw interval values per series plus a coarser
/// ring of compacted buckets (mean and max of `compactionFactor` intervals).
///
/// Why not SQLite: the analysis reads the last few minutes of every series on every tick and
/// writes ~1 value per series per second; a ring per series does both with no allocation,
/// no parsing and no lock, and bounds memory by construction (retention = ring sizes). The
/// durable part is an append-only log of the compacted buckets (`drainCompacted`, written by
/// the caller), which is all a later query over hours needs; the raw minutes are rebuilt from
/// the record stream after a restart. Measured in `netobs bench-analysis`.
public struct SeriesStore: Sendable {
    public struct Retention: Sendable, Codable, Equatable {
        /// Raw intervals kept per series.
        public var rawIntervals: Int
        /// Intervals folded into one compacted bucket.
        public var compactionFactor: Int
        /// Compacted buckets kept per series.
        public var compactedBuckets: Int

        public init(rawIntervals: Int = 600, compactionFactor: Int = 60, compactedBuckets: Int = 60) {
            self.rawIntervals = max(8, rawIntervals)
            self.compactionFactor = max(2, compactionFactor)
            self.compactedBuckets = max(1, compactedBuckets)
        }
    }

    /// One compacted bucket, as written to the append log.
    public struct CompactedBucket: Sendable, Equatable {
        public var key: SeriesKey
        public var firstInterval: Int
        public var mean: Float
        public var max: Float
        public var count: Int
    }

    struct Series: Sendable {
        var raw: [Float]
        /// The interval after the newest raw value (values live at `interval % capacity`).
        var end: Int
        var bucketStart: Int
        var bucketSum: Float = 0
        var bucketMax: Float = -.infinity
        var bucketCount: Int32 = 0
        var compacted: [(mean: Float, max: Float)] = []
        var compactedEnd = 0

        typealias Closed = (first: Int, mean: Float, max: Float, count: Int)

        /// nil when `interval` is older than the newest value; else the compacted bucket it closed, if any.
        mutating func append(interval: Int, value: Float, retention: Retention) -> Closed?? {
            let capacity = retention.rawIntervals
            if raw.isEmpty {
                raw = [Float](repeating: .nan, count: capacity)
                end = interval
                bucketStart = interval - interval % retention.compactionFactor
            }
            guard interval >= end else { return nil }
            // Intervals with no value read NaN: at most one ring's worth to clear.
            for gap in Swift.max(end, interval - capacity + 1)..<interval { raw[gap % capacity] = .nan }
            let closed = roll(to: interval, retention: retention)
            raw[interval % capacity] = value
            end = interval + 1
            bucketSum += value
            bucketMax = Swift.max(bucketMax, value)
            bucketCount += 1
            return .some(closed)
        }

        /// Closes the open compacted bucket when `interval` is past it (empty buckets are not kept).
        private mutating func roll(to interval: Int, retention: Retention) -> Closed? {
            let factor = retention.compactionFactor
            guard interval >= bucketStart + factor else { return nil }
            var closed: Closed?
            if bucketCount > 0 {
                let bucket = (mean: bucketSum / Float(bucketCount), max: bucketMax)
                if compacted.count < retention.compactedBuckets {
                    compacted.append(bucket)
                } else {
                    compacted[compactedEnd % retention.compactedBuckets] = bucket
                }
                compactedEnd += 1
                closed = (bucketStart, bucket.mean, bucket.max, Int(bucketCount))
            }
            bucketSum = 0
            bucketMax = -.infinity
            bucketCount = 0
            bucketStart = interval - interval % factor
            return closed
        }
    }

    public let retention: Retention
    private(set) var ids: [SeriesKey: Int] = [:]
    private(set) var keys: [SeriesKey] = []
    private var series: [Series] = []
    private var freeIDs: [Int] = []
    private var outbox: [CompactedBucket] = []
    /// Keep compacted buckets for `drainCompacted` (off: nothing queues).
    public var logsCompaction = false

    public init(retention: Retention = Retention()) { self.retention = retention }

    public var count: Int { ids.count }

    /// The id of a series, made on first use.
    public mutating func id(for key: SeriesKey) -> Int {
        if let id = ids[key] { return id }
        let fresh = Series(raw: [], end: 0, bucketStart: 0)
        let id: Int
        if let reused = freeIDs.popLast() {
            id = reused
            series[id] = fresh
            keys[id] = key
        } else {
            id = series.count
            series.append(fresh)
            keys.append(key)
        }
        ids[key] = id
        return id
    }

    public func existingID(for key: SeriesKey) -> Int? { ids[key] }
    public func key(of id: Int) -> SeriesKey { keys[id] }
    public var allKeys: Dictionary<SeriesKey, Int>.Keys { ids.keys }

    /// Stores the value of `interval` (intervals only move forward per series; an older one is ignored).
    @discardableResult
    public mutating func append(id: Int, interval: Int, value: Float) -> Bool {
        // In place (no copy of the series' rings): the hot path of the analysis.
        guard let closed = series[id].append(interval: interval, value: value, retention: retention) else { return false }
        if logsCompaction, let bucket = closed {
            outbox.append(CompactedBucket(key: keys[id], firstInterval: bucket.first, mean: bucket.mean,
                                          max: bucket.max, count: bucket.count))
        }
        return true
    }

    /// Raw values of intervals `from..<to` (NaN where none, or outside retention; intervals
    /// before 0, which a window reaching back from a run's first minutes asks for, hold none).
    public func values(id: Int, from: Int, to: Int) -> [Float] {
        guard from < to else { return [] }
        let s = series[id]
        let capacity = retention.rawIntervals
        return (from..<to).map { k in
            guard !s.raw.isEmpty, k >= 0, k < s.end, k >= s.end - capacity else { return .nan }
            return s.raw[k % capacity]
        }
    }

    public func values(_ key: SeriesKey, from: Int, to: Int) -> [Float]? {
        ids[key].map { values(id: $0, from: from, to: to) }
    }

    /// Compacted buckets (mean, max), oldest first.
    public func compacted(id: Int) -> [(mean: Float, max: Float)] {
        let s = series[id]
        let n = retention.compactedBuckets
        guard s.compactedEnd > n else { return s.compacted }
        let head = s.compactedEnd % n
        return Array(s.compacted[head...] + s.compacted[..<head])
    }

    /// The newest interval with a value, or nil.
    public func lastInterval(id: Int) -> Int? { series[id].raw.isEmpty ? nil : series[id].end - 1 }

    /// Drops series with no value in the last `rawIntervals` before `interval` (retention).
    /// Returns the ids freed, so that owners of per-series state can forget them.
    public mutating func expire(before interval: Int) -> [Int] {
        var freed: [Int] = []
        for (key, id) in ids where series[id].raw.isEmpty || series[id].end + retention.rawIntervals <= interval {
            ids[key] = nil
            series[id] = Series(raw: [], end: 0, bucketStart: 0)
            freeIDs.append(id)
            freed.append(id)
        }
        return freed
    }

    /// Compacted buckets closed since the last call (for the append log).
    public mutating func drainCompacted() -> [CompactedBucket] {
        defer { outbox.removeAll(keepingCapacity: true) }
        return outbox
    }

    /// Bytes held by the series (rings and tables), an estimate for the benchmark.
    public var approximateBytes: Int {
        let perSeries = MemoryLayout<Series>.stride + retention.rawIntervals * 4
            + retention.compactedBuckets * 8
        let keyBytes = keys.reduce(0) { $0 + 48 + $1.a.utf8.count + $1.b.utf8.count }
        return series.count * perSeries + keyBytes * 2
    }
}
