/// Every agent's segments as the store knows them without reading them (names, sizes and times
/// from the directory listing at start, then kept by appends and drops), and retention's choice
/// of what to drop next. Pure: the store holds it under a lock and does the file work.
struct LogIndex {
    struct Segment {
        let first: UInt64
        var bytes: Int
        var createdNs: UInt64
        var lastWriteNs: UInt64
        /// What it holds, when every entry was seen (segments begun since start); otherwise it is
        /// counted from the entries' headers when dropped.
        var tally: SegmentTally?
    }

    struct Agent {
        let directory: String
        /// Ascending by `first`; the last one takes the appends.
        var segments: [Segment] = []
        /// Highest durable sequence, once the log is open for appending. Before that (nil) every
        /// batch on disk was stored by an earlier run, so every one is settled.
        var highest: UInt64?
        /// Stored batches still waiting in the publishing queue, ascending. Retention drops no
        /// segment that holds one (nor any later: segments go oldest first).
        var unpublished: [UInt64] = []
    }

    struct Victim {
        let agent: String
        let segment: Segment
        /// The agent's last segment: it is replaced by an empty one before it goes.
        let isLast: Bool
        let reason: RetentionReason
    }

    private(set) var agents: [String: Agent] = [:]
    private(set) var bytes = 0
    private(set) var segmentCount = 0
    private(set) var dropped: [String: [RetentionReason: DropCount]] = [:]
    /// Over the byte bound and dropping down to the low-water mark.
    private var trimming = false

    mutating func add(agent id: String, directory: String, segments: [Segment] = []) {
        guard agents[id] == nil else { return }
        agents[id] = Agent(directory: directory, segments: segments)
        bytes += segments.reduce(0) { $0 + $1.bytes }
        segmentCount += segments.count
    }

    func agent(_ id: String) -> Agent? { agents[id] }

    /// The append side of `id` is open: its last segment is `lastBytes` long (a torn tail cut).
    mutating func opened(_ id: String, lastBytes: Int?, highest: UInt64) {
        guard var a = agents[id] else { return }
        if let lastBytes, !a.segments.isEmpty {
            bytes += lastBytes - a.segments[a.segments.count - 1].bytes
            a.segments[a.segments.count - 1].bytes = lastBytes
        }
        a.highest = highest
        agents[id] = a
    }

    /// A new last segment for `id`, empty so far.
    mutating func began(_ id: String, first: UInt64, nowNs: UInt64) {
        agents[id]?.segments.append(Segment(first: first, bytes: 0, createdNs: nowNs, lastWriteNs: nowNs, tally: SegmentTally()))
        segmentCount += 1
    }

    /// An entry of `entryBytes` appended to the last segment of `id`.
    mutating func appended(_ id: String, sequence: UInt64, records: Int, entryBytes: Int, nowNs: UInt64) {
        guard var a = agents[id], !a.segments.isEmpty else { return }
        let i = a.segments.count - 1
        a.segments[i].bytes += entryBytes
        a.segments[i].lastWriteNs = nowNs
        a.segments[i].tally?.add(sequence: sequence, records: records)
        a.highest = sequence
        a.unpublished.append(sequence)
        agents[id] = a
        bytes += entryBytes
    }

    /// Batch `sequence` of `id` left the publishing queue (published, or skipped and counted).
    mutating func published(_ id: String, sequence: UInt64) {
        guard let i = agents[id]?.unpublished.firstIndex(of: sequence) else { return }
        agents[id]?.unpublished.remove(at: i)
    }

    mutating func published(_ id: String, through sequence: UInt64) {
        agents[id]?.unpublished.removeAll { $0 <= sequence }
    }

    /// Forgets the oldest segment of `id` (its file is gone) and counts what it held.
    mutating func dropped(_ id: String, first: UInt64, tally: SegmentTally, reason: RetentionReason) {
        guard var a = agents[id], let s = a.segments.first, s.first == first else { return }
        a.segments.removeFirst()
        agents[id] = a
        bytes -= s.bytes
        segmentCount -= 1
        guard tally.batches > 0 else { return }
        dropped[id, default: [:]][reason, default: DropCount()].add(tally)
    }

    /// The next segment retention should drop, if any: a segment whose newest entry is older
    /// than the age bound, else, while over the byte bound (and until the low-water mark), the
    /// segment with the oldest newest entry of all agents. Only a segment whose batches are all
    /// published qualifies; `skipping` are agents whose segment could not go this pass.
    mutating func victim(_ policy: LogRetention, nowNs: UInt64, skipping: Set<String> = []) -> Victim? {
        if let max = policy.maxBytes, let low = policy.lowWaterBytes {
            if bytes > max { trimming = true } else if bytes <= low { trimming = false }
        } else {
            trimming = false
        }
        var best: (victim: Victim, time: UInt64)?
        for (id, a) in agents where !skipping.contains(id) {
            guard let s = a.segments.first else { continue }
            let isLast = a.segments.count == 1
            guard !isLast || s.bytes > 0 else { continue }  // an empty last segment holds only its name
            // Every sequence of a closed segment is below the next segment's name.
            let settled = isLast ? a.unpublished.isEmpty : a.unpublished.first.map { $0 >= a.segments[1].first } ?? true
            guard settled else { continue }
            let expired = policy.maxAgeNs.map { s.lastWriteNs &+ $0 < nowNs } ?? false
            guard expired || trimming else { continue }
            if let b = best, b.victim.reason == .age, !expired { continue }
            if let b = best, b.time <= s.lastWriteNs, (b.victim.reason == .age) == expired { continue }
            best = (Victim(agent: id, segment: s, isLast: isLast, reason: expired ? .age : .bytes), s.lastWriteNs)
        }
        return best?.victim
    }
}

/// Why retention dropped a segment.
public enum RetentionReason: String, Sendable, CaseIterable, Comparable {
    case bytes, age
    public static func < (a: Self, b: Self) -> Bool { a.rawValue < b.rawValue }
}

/// Batches and records dropped.
public struct DropCount: Sendable, Equatable {
    public var batches: UInt64 = 0
    public var records: UInt64 = 0

    public init(batches: UInt64 = 0, records: UInt64 = 0) {
        self.batches = batches
        self.records = records
    }

    mutating func add(_ t: SegmentTally) {
        batches += t.batches
        records += t.records
    }
}
