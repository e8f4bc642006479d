import NetobsWire

/// One stored FlowBatch in an agent's durable log (`DATA/agents/<id>/batches.log`):
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

    /// Complete entries from `bytes` starting at `offset`, and the offset just past the last one
    /// (where a torn tail, if any, starts).
    public static func scan(_ bytes: [UInt8], from offset: Int = 0) -> (entries: [LogEntry], end: Int) {
        var entries: [LogEntry] = []
        var pos = offset
        while bytes.count - pos >= 8 {
            var header = ByteReader(bytes[pos..<pos + 8])
            guard let length = try? Int(header.u32("length")), let sum = try? header.u32("checksum"),
                  bytes.count - pos - 8 >= length else { break }
            let body = bytes[pos + 8..<pos + 8 + length]
            guard checksum(body) == sum, let entry = try? decodeBody(body) else { break }
            entries.append(entry)
            pos += 8 + length
        }
        return (entries, pos)
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
