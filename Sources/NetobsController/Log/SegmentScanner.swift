import NetobsWire

/// Reads a segment's entries in order from an offset, through a buffer of about `chunk` bytes
/// (plus the entry being read): memory stays bounded whatever the segment's size. Stops at the
/// first entry that is incomplete or fails its checksum; `end` is then where that entry starts
/// (a torn tail, in the last segment after a crash).
struct SegmentScanner {
    static let chunk = 256 * 1024

    private let file: SegmentFile
    private var buffer: [UInt8] = []
    /// File offset of `buffer[0]`.
    private var bufferStart: Int
    /// File offset just past the last complete entry returned.
    private(set) var end: Int
    private var atEndOfFile = false

    init(_ file: SegmentFile, from offset: Int = 0) {
        self.file = file
        bufferStart = offset
        end = offset
    }

    /// The next complete entry, or nil at the end of the complete ones.
    mutating func next() throws -> LogEntry? {
        guard try fill(LogEntry.headerBytes) else { return nil }
        let header = buffer[(end - bufferStart)...].prefix(LogEntry.headerBytes)
        guard let length = LogEntry.bodyLength(header: header), try fill(LogEntry.headerBytes + length) else { return nil }
        let at = end - bufferStart
        let bodyStart = at + LogEntry.headerBytes
        guard let entry = LogEntry.decode(header: buffer[at..<bodyStart], body: buffer[bodyStart..<bodyStart + length]) else {
            return nil
        }
        end += LogEntry.headerBytes + length
        return entry
    }

    /// True once `count` bytes from `end` are buffered; false when the file ends first.
    private mutating func fill(_ count: Int) throws -> Bool {
        // Forget what was consumed before reading more, so the buffer never grows past a chunk
        // beyond the current entry.
        if end - bufferStart >= Self.chunk {
            buffer.removeFirst(end - bufferStart)
            bufferStart = end
        }
        while bufferStart + buffer.count < end + count {
            guard !atEndOfFile else { return false }
            let want = max(Self.chunk, end + count - bufferStart - buffer.count)
            let before = buffer.count
            try file.read(at: bufferStart + buffer.count, count: want, into: &buffer)
            if buffer.count - before < want { atEndOfFile = true }
        }
        return true
    }
}

/// Sequence numbers and record counts of a segment's entries, read from their headers alone
/// (21 bytes an entry): what a dropped segment held, without reading its records.
struct SegmentTally: Equatable, Sendable {
    var first: UInt64 = 0
    var last: UInt64 = 0
    var batches: UInt64 = 0
    var records: UInt64 = 0

    mutating func add(sequence: UInt64, records n: Int) {
        if batches == 0 { first = sequence }
        last = sequence
        batches += 1
        records += UInt64(n)
    }

    /// Counts the entries of `file` up to `size` bytes. Closed segments are whole (every entry
    /// was synced before the next segment began), so headers are trusted here.
    static func count(_ file: SegmentFile, size: Int) throws -> SegmentTally {
        var tally = SegmentTally()
        var offset = 0
        var header: [UInt8] = []
        header.reserveCapacity(LogEntry.summaryBytes)
        while offset + LogEntry.summaryBytes <= size {
            header.removeAll(keepingCapacity: true)
            try file.read(at: offset, count: LogEntry.summaryBytes, into: &header)
            guard header.count == LogEntry.summaryBytes,
                  let length = LogEntry.bodyLength(header: header[0..<LogEntry.headerBytes]),
                  offset + LogEntry.headerBytes + length <= size else { break }
            var r = ByteReader(header[LogEntry.headerBytes...])
            guard let sequence = try? r.u64("sequence"), (try? r.u8("format")) != nil,
                  let count = try? r.u32("count") else { break }
            tally.add(sequence: sequence, records: Int(count))
            offset += LogEntry.headerBytes + length
        }
        return tally
    }
}
