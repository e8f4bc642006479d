import NetobsWireNIO

/// One agent's log open for appending: its last segment, the highest durable sequence, and the
/// `state` hint ("<segment> <offset> <highest>\n": an entry boundary in the last segment and the
/// highest sequence up to it, rewritten every `appendsPerHint` appends without fsync).
struct AgentLog {
    let directory: String
    /// The last segment (nil: the agent has none yet).
    private(set) var writer: SegmentWriter?
    private(set) var writerFirst: UInt64 = 0
    private(set) var highest: UInt64 = 0
    private var appendsSinceHint = 0

    /// Appends between two writes of the hint: a file created per batch costs more CPU than the
    /// batch (1,000 agents, 1,000 batches/s), and a stale hint costs only the scan of at most
    /// this many entries on open.
    static let appendsPerHint = 64

    /// What opening found.
    struct Recovery {
        /// Bytes of an incomplete entry cut from the end of the last segment, and where.
        var tornBytes = 0
        var tornPath = ""
        /// The last segment's size after the cut (nil: no segment).
        var lastBytes: Int?
    }

    /// Opens the log of `segments` (ascending) by reading the last segment only: from the hint
    /// when it names an entry boundary there, else from its start. A scan from the hint that stops
    /// short of the end is redone from the start before anything is cut, so a stale or damaged
    /// hint never costs an entry; only a torn tail is cut off.
    static func open(directory: String, segments: [LogIndex.Segment], meter: ReadMeter) throws -> (AgentLog, Recovery) {
        var log = AgentLog(directory: directory)
        var recovery = Recovery()
        guard let last = segments.last else { return (log, recovery) }
        let path = directory + "/" + SegmentName.name(last.first)
        let hint = Hint.read(directory + "/state", meter: meter)
        var start = 0
        var highest: UInt64 = 0
        // Its highest counts only with an offset past 0 that the scan confirms as a boundary.
        if let hint, hint.segment == last.first, hint.offset <= last.bytes, hint.offset > 0 {
            start = hint.offset
            highest = hint.highest
        }
        let file = try SegmentFile(path: path, meter: meter)
        var (scanned, end) = try scan(file, from: start)
        if end != last.bytes && start > 0 {
            (scanned, end) = try scan(file, from: 0)
            highest = 0
        }
        // The name settles every sequence below it, also when no entry is left in the segment.
        log.highest = max(highest, scanned ?? 0, last.first > 0 ? last.first - 1 : 0)
        if end != last.bytes {
            recovery.tornBytes = last.bytes - end
            recovery.tornPath = path
        }
        log.writer = try SegmentWriter(path: path, truncatingTo: end)
        log.writerFirst = last.first
        recovery.lastBytes = end
        if scanned != nil || end != last.bytes { log.writeHint() }
        return (log, recovery)
    }

    /// The highest sequence from `offset` on, and where the complete entries end.
    private static func scan(_ file: SegmentFile, from offset: Int) throws -> (UInt64?, Int) {
        var scanner = SegmentScanner(file, from: offset)
        var highest: UInt64?
        while let entry = try scanner.next() { highest = max(highest ?? 0, entry.sequence) }
        return (highest, scanner.end)
    }

    /// Where an append went.
    struct Appended {
        /// The entry began a new segment, named after its sequence.
        var began: UInt64?
    }

    /// Appends and syncs one entry, first closing the last segment when it reached `target` bytes
    /// or was begun `maxAgeNs` ago (`lastCreatedNs`). The entry is durable when this returns; on
    /// failure nothing of it is left, not even the segment it would have begun.
    mutating func append(_ entry: [UInt8], sequence: UInt64, target: Int, lastCreatedNs: UInt64?,
                         maxAgeNs: UInt64?, nowNs: UInt64) throws -> Appended {
        var fresh: SegmentWriter?
        if let writer, writer.size > 0 {
            let old = maxAgeNs.map { age in lastCreatedNs.map { $0 &+ age < nowNs } ?? false } ?? false
            if writer.size + entry.count > target || old { fresh = try begin(sequence) }
        } else if writer == nil {
            fresh = try begin(sequence)
        }
        let into = fresh ?? writer!
        do {
            try into.appendDurably(entry)
            // The new file's name must survive a crash as surely as its content.
            if fresh != nil { try DurableFile.syncDirectory(of: into.path) }
        } catch {
            if fresh != nil { try? DurableFile.remove(into.path) }
            throw error
        }
        if let fresh {
            writer = fresh
            writerFirst = sequence
        }
        highest = sequence
        appendsSinceHint += 1
        if appendsSinceHint >= Self.appendsPerHint || fresh != nil { writeHint() }
        return Appended(began: fresh != nil ? sequence : nil)
    }

    /// Replaces the last segment by an empty one named after the next sequence (so the highest
    /// stays known), for retention to drop the old one. Returns the new segment's first sequence.
    mutating func beginEmpty() throws -> UInt64 {
        let first = highest + 1
        let fresh = try begin(first)
        try DurableFile.syncDirectory(of: fresh.path)
        writer = fresh
        writerFirst = first
        writeHint()
        return first
    }

    private func begin(_ first: UInt64) throws -> SegmentWriter {
        try SegmentWriter(path: directory + "/" + SegmentName.name(first), truncatingTo: 0)
    }

    /// A hint only: losing it to a crash costs a longer scan of the last segment, never an entry.
    private mutating func writeHint() {
        appendsSinceHint = 0
        guard let writer else { return }
        let text = "\(writerFirst) \(writer.size) \(highest)\n"
        try? DurableFile.replace(directory + "/state", with: Array(text.utf8), durably: false)
    }
}

/// The `state` hint of an agent's log. The two-field form of the single-file log ("<highest>
/// <offset>") names an offset in `batches.log`; it is read as one for that file's segment.
struct Hint: Equatable {
    var segment: UInt64
    var offset: Int
    var highest: UInt64

    static func read(_ path: String, meter: ReadMeter? = nil, legacySegment: UInt64? = nil) -> Hint? {
        guard let bytes = try? DurableFile.read(path) else { return nil }
        meter?.add(bytes.count)
        let parts = String(decoding: bytes, as: UTF8.self).split(whereSeparator: { $0 == " " || $0 == "\n" })
        if parts.count == 3, let s = UInt64(parts[0]), let o = Int(parts[1]), let h = UInt64(parts[2]), o >= 0 {
            return Hint(segment: s, offset: o, highest: h)
        }
        if parts.count == 2, let legacySegment, let h = UInt64(parts[0]), let o = Int(parts[1]), o >= 0 {
            return Hint(segment: legacySegment, offset: o, highest: h)
        }
        return nil
    }

    func write(_ path: String) throws {
        try DurableFile.replace(path, with: Array("\(segment) \(offset) \(highest)\n".utf8), durably: false)
    }
}
