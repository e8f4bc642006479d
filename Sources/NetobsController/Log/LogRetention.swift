/// How much of the agents' logs the controller keeps: a bound on the bytes of all agents' logs
/// together (the data volume is shared, so that is the bound that keeps it from filling), and on
/// the age of a segment's newest entry. The oldest whole segments go first; only batches
/// already published to consumers can go (see `AgentLogStore`).
public struct LogRetention: Sendable, Equatable {
    /// Bytes of every agent's segments together (nil: no bound).
    public var maxBytes: Int?
    /// Segments whose newest entry is older than this are dropped (nil: no bound).
    public var maxAgeNs: UInt64?
    /// A segment is closed past this size, whatever the bounds.
    public var segmentBytes: Int

    public static let defaultMaxBytes = 1 << 30
    public static let defaultSegmentBytes = 64 << 20
    /// Segments are no smaller than this (one entry may be bigger): more files cost more than the
    /// finer granularity gives.
    static let minimumSegmentBytes = 4096

    public init(maxBytes: Int? = LogRetention.defaultMaxBytes, maxAgeNs: UInt64? = nil,
                segmentBytes: Int = LogRetention.defaultSegmentBytes) {
        self.maxBytes = maxBytes.flatMap { $0 > 0 ? $0 : nil }
        self.maxAgeNs = maxAgeNs.flatMap { $0 > 0 ? $0 : nil }
        self.segmentBytes = max(Self.minimumSegmentBytes, segmentBytes)
    }

    /// No bound: segments are kept for ever (tests and tools that read a log).
    public static let unbounded = LogRetention(maxBytes: nil, maxAgeNs: nil)

    /// Where a segment is closed with `agents` logs sharing the byte bound: small enough that
    /// each agent's share spans several segments (so a drop takes a slice of the oldest data,
    /// not an agent's whole history), and at most `segmentBytes`.
    func segmentTarget(agents: Int) -> Int {
        guard let maxBytes else { return segmentBytes }
        return min(segmentBytes, max(Self.minimumSegmentBytes, maxBytes / (8 * max(1, agents))))
    }

    /// A segment begun this long ago is closed, so that age drops a slice at a time too.
    var segmentMaxAgeNs: UInt64? { maxAgeNs.map { max(1, $0 / 8) } }

    /// Once over `maxBytes`, segments are dropped down to this, so that a drop is not due at
    /// every append.
    var lowWaterBytes: Int? { maxBytes.map { $0 - $0 / 16 } }
}
