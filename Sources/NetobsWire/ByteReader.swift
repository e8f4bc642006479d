/// Reads what `ByteWriter` writes, from a slice of a payload, without copying the payload.
///
/// Every read checks the bytes remaining first; every length or count is checked against its limit
/// and against the bytes remaining before anything is allocated.
public struct ByteReader: Sendable {
    private let base: ArraySlice<UInt8>
    public private(set) var position: Int

    public init(_ bytes: ArraySlice<UInt8>) {
        base = bytes
        position = bytes.startIndex
    }

    public init(_ bytes: [UInt8]) { self.init(bytes[...]) }

    public var remaining: Int { base.endIndex - position }
    public var isAtEnd: Bool { position == base.endIndex }

    private mutating func take(_ n: Int, _ field: String) throws(WireError) -> ArraySlice<UInt8> {
        guard n <= remaining else { throw .truncated(field: field, needed: n, available: remaining) }
        defer { position += n }
        return base[position..<position + n]
    }

    public mutating func u8(_ field: String) throws(WireError) -> UInt8 {
        try take(1, field).first!
    }

    public mutating func bool(_ field: String) throws(WireError) -> Bool {
        switch try u8(field) {
        case 0: return false
        case 1: return true
        case let v: throw .invalidValue(field: field, value: UInt64(v))
        }
    }

    private mutating func bigEndian(_ n: Int, _ field: String) throws(WireError) -> UInt64 {
        var v: UInt64 = 0
        for b in try take(n, field) { v = v << 8 | UInt64(b) }
        return v
    }

    public mutating func u16(_ field: String) throws(WireError) -> UInt16 { UInt16(try bigEndian(2, field)) }
    public mutating func u32(_ field: String) throws(WireError) -> UInt32 { UInt32(try bigEndian(4, field)) }
    public mutating func u64(_ field: String) throws(WireError) -> UInt64 { try bigEndian(8, field) }

    /// Unsigned LEB128 of at most 32 bits, in its minimal form only (one value, one encoding).
    public mutating func uvarint(_ field: String) throws(WireError) -> UInt32 {
        var value: UInt32 = 0
        for i in 0..<5 {
            let b = try u8(field)
            if i == 4 && b > 0x0F { throw .malformedVarint(field: field) }  // would pass 32 bits
            value |= UInt32(b & 0x7F) << UInt32(7 * i)
            if b & 0x80 == 0 {
                if i > 0 && b == 0 { throw .malformedVarint(field: field) }  // redundant zero group
                return value
            }
        }
        throw .malformedVarint(field: field)
    }

    /// Exactly `n` bytes, no prefix.
    public mutating func fixedBytes(_ n: Int, _ field: String) throws(WireError) -> [UInt8] {
        Array(try take(n, field))
    }

    /// A length prefix checked against `limit` and the bytes remaining, before the caller allocates.
    public mutating func length(limit: Int, _ field: String) throws(WireError) -> Int {
        let n = try uvarint(field)
        guard n <= limit else { throw .lengthLimitExceeded(field: field, length: UInt64(n), limit: limit) }
        guard Int(n) <= remaining else { throw .truncated(field: field, needed: Int(n), available: remaining) }
        return Int(n)
    }

    public mutating func bytes(limit: Int, _ field: String) throws(WireError) -> [UInt8] {
        let n = try length(limit: limit, field)
        return Array(try take(n, field))
    }

    public mutating func string(limit: Int, _ field: String) throws(WireError) -> String {
        let n = try length(limit: limit, field)
        guard let s = String(validating: try take(n, field), as: UTF8.self) else { throw .invalidUTF8(field: field) }
        return s
    }

    /// Everything left, as UTF-8: a tagged string value, whose length is the tagged field's.
    public mutating func rest(limit: Int, _ field: String) throws(WireError) -> String {
        guard remaining <= limit else {
            throw .lengthLimitExceeded(field: field, length: UInt64(remaining), limit: limit)
        }
        guard let s = String(validating: try take(remaining, field), as: UTF8.self) else {
            throw .invalidUTF8(field: field)
        }
        return s
    }

    /// A list count, checked against the list's limit and against the smallest possible encoding of
    /// its elements, so that reserving `count` elements is bounded by the bytes actually received.
    public mutating func count(limit: Int, minElementSize: Int, _ field: String) throws(WireError) -> Int {
        let n = try uvarint(field)
        guard n <= limit else { throw .countLimitExceeded(field: field, count: UInt64(n), limit: limit) }
        guard Int(n) * minElementSize <= remaining else {
            throw .truncated(field: field, needed: Int(n) * minElementSize, available: remaining)
        }
        return Int(n)
    }

    /// A reader over the next `n` bytes (a tagged field's value); this reader skips past them.
    public mutating func subReader(_ n: Int, _ field: String) throws(WireError) -> ByteReader {
        ByteReader(try take(n, field))
    }

    public mutating func skip(_ n: Int, _ field: String) throws(WireError) { _ = try take(n, field) }

    /// Payloads and tagged values must be consumed exactly.
    public func expectEnd(_ field: String) throws(WireError) {
        guard isAtEnd else { throw .trailingBytes(field: field, count: remaining) }
    }
}
