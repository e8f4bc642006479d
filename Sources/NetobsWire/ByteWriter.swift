/// Appends big-endian integers, varints and length-prefixed fields to a byte array.
///
/// The writer enforces the same limits the reader does, so we never emit a payload our own decoder
/// would refuse.
public struct ByteWriter: Sendable {
    public private(set) var bytes: [UInt8]

    public init(capacity: Int = 64) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    public mutating func u8(_ v: UInt8) { bytes.append(v) }

    public mutating func bool(_ v: Bool) { bytes.append(v ? 1 : 0) }

    public mutating func u16(_ v: UInt16) {
        bytes.append(UInt8(truncatingIfNeeded: v >> 8))
        bytes.append(UInt8(truncatingIfNeeded: v))
    }

    public mutating func u32(_ v: UInt32) {
        for shift in stride(from: 24, through: 0, by: -8) { bytes.append(UInt8(truncatingIfNeeded: v >> UInt32(shift))) }
    }

    public mutating func u64(_ v: UInt64) {
        for shift in stride(from: 56, through: 0, by: -8) { bytes.append(UInt8(truncatingIfNeeded: v >> UInt64(shift))) }
    }

    /// Unsigned LEB128, minimal form (what `ByteReader.uvarint` insists on).
    public mutating func uvarint(_ v: UInt32) {
        var v = v
        while v >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        bytes.append(UInt8(v))
    }

    /// Raw bytes with no prefix (fixed-size fields such as a SHA-256 digest).
    public mutating func raw<C: Collection>(_ v: C) where C.Element == UInt8 { bytes.append(contentsOf: v) }

    /// A count prefix for a list; checked against the list's limit.
    public mutating func count(_ n: Int, limit: Int, field: String) throws(WireError) {
        guard n <= limit else { throw .countLimitExceeded(field: field, count: UInt64(n), limit: limit) }
        uvarint(UInt32(n))
    }

    /// Length-prefixed opaque bytes.
    public mutating func bytes<C: Collection>(_ v: C, limit: Int, field: String) throws(WireError)
    where C.Element == UInt8 {
        guard v.count <= limit else { throw .lengthLimitExceeded(field: field, length: UInt64(v.count), limit: limit) }
        uvarint(UInt32(v.count))
        bytes.append(contentsOf: v)
    }

    /// Length-prefixed UTF-8 (Swift strings are always valid UTF-8).
    public mutating func string(_ s: String, limit: Int, field: String) throws(WireError) {
        try bytes(s.utf8, limit: limit, field: field)
    }
}
