import NetobsWire

/// One stored FlowBatch in an agent's durable log (a segment `DATA/agents/<id>/batches-<first>.log`):
///
///     length:u32  checksum:u32 (FNV-1a of body)  body: sequence:u64 format:u8 count:u32 { len:u32 bytes }*
///
/// big-endian. The checksum lets recovery tell a complete entry from a torn one.
public struct LogEntry: Equatable, Sendable {
    public var sequence: UInt64
    public var format: RecordFormat
    public var records: [[UInt8]]

    public init(sequence: UInt64, format: RecordFormat, records: [[UInt8]]) {
        self.sequence = sequence
        self.format = format
        self.records = records
    }

    public func encoded() -> [UInt8] {
        var body = ByteWriter()
        body.u64(sequence)
        body.u8(format.rawValue)
        body.u32(UInt32(records.count))
        for r in records {
            body.u32(UInt32(r.count))
            body.raw(r)
        }
        var w = ByteWriter(capacity: body.bytes.count + 8)
        w.u32(UInt32(body.bytes.count))
        w.u32(Self.checksum(body.bytes[...]))
        w.raw(body.bytes)
        return w.bytes
    }

    static func checksum(_ bytes: ArraySlice<UInt8>) -> UInt32 {
        var h: UInt32 = 2_166_136_261
        for b in bytes { h = (h ^ UInt32(b)) &* 16_777_619 }
        return h
    }

    /// Bytes before the body: length and checksum.
    static let headerBytes = 8
    /// Header plus the body's fixed start (sequence, format, count): what counting a segment reads.
    static let summaryBytes = headerBytes + 13
    /// A length above this is damage, not an entry (a FlowBatch payload is at most 32 MiB).
    static let maxBodyBytes = 2 * Limits.absoluteMaxPayload

    /// The entry whose header is `header` (8 bytes) and body `body`, or nil when the body does
    /// not match its checksum or does not decode: a torn or damaged entry.
    static func decode(header: ArraySlice<UInt8>, body: ArraySlice<UInt8>) -> LogEntry? {
        var r = ByteReader(header.dropFirst(4))
        guard let sum = try? r.u32("checksum"), checksum(body) == sum else { return nil }
        return try? decodeBody(body)
    }

    /// The body length a header announces, or nil when no entry can be that long.
    static func bodyLength(header: ArraySlice<UInt8>) -> Int? {
        var r = ByteReader(header)
        guard let length = try? Int(r.u32("length")), length <= maxBodyBytes else { return nil }
        return length
    }

    private static func decodeBody(_ body: ArraySlice<UInt8>) throws(WireError) -> LogEntry {
        var r = ByteReader(body)
        let seq = try r.u64("sequence")
        let format = RecordFormat(rawValue: try r.u8("format"))
        let count = try r.u32("count")
        var records: [[UInt8]] = []
        for _ in 0..<count {
            let n = Int(try r.u32("record.length"))
            records.append(try r.fixedBytes(n, "record"))
        }
        try r.expectEnd("entry")
        return LogEntry(sequence: seq, format: format, records: records)
    }
}
