#if canImport(Glibc)
import Glibc
#endif

/// Finds top-level fields in one JSON-lines record without parsing it: the join reads four
/// or five fields of records it passes on unchanged otherwise. A match of `"key"` followed
/// by `:` can only be a key in valid JSON (a quote inside a string value is escaped).
struct RecordFields {
    let bytes: UnsafeRawBufferPointer

    /// The bytes of the string value of `key` (without quotes), or nil.
    func string(_ key: StaticString) -> UnsafeRawBufferPointer? {
        guard var i = valueStart(key), i < bytes.count, bytes[i] == UInt8(ascii: "\"") else { return nil }
        i += 1
        let start = i
        while i < bytes.count && bytes[i] != UInt8(ascii: "\"") {
            if bytes[i] == UInt8(ascii: "\\") { return nil }  // addresses and uids never need escapes
            i += 1
        }
        guard i < bytes.count else { return nil }
        return UnsafeRawBufferPointer(rebasing: bytes[start..<i])
    }

    /// The value of `key` when it is an unsigned integer below 2^32.
    func uint(_ key: StaticString) -> UInt32? {
        guard var i = valueStart(key) else { return nil }
        var value: UInt64 = 0
        let start = i
        while i < bytes.count, bytes[i] >= UInt8(ascii: "0"), bytes[i] <= UInt8(ascii: "9"), i - start < 10 {
            value = value * 10 + UInt64(bytes[i] - UInt8(ascii: "0"))
            i += 1
        }
        return i > start && value <= UInt64(UInt32.max) ? UInt32(value) : nil
    }

    func contains(_ key: StaticString) -> Bool { valueStart(key) != nil }

    /// Index of the first byte of `key`'s value: after `"key"`, optional spaces, `:`, spaces.
    private func valueStart(_ key: StaticString) -> Int? {
        guard let base = bytes.baseAddress else { return nil }
        var from = 0
        let quoted = key.utf8CodeUnitCount + 2
        while from < bytes.count {
            // The name (memchr for its first byte, then memcmp), then the quotes around it.
            guard let hit = memchr(base + from, Int32(key.utf8Start.pointee), bytes.count - from) else { return nil }
            let at = base.distance(to: UnsafeRawPointer(hit))
            guard at + key.utf8CodeUnitCount <= bytes.count,
                  memcmp(base + at, key.utf8Start, key.utf8CodeUnitCount) == 0 else { from = at + 1; continue }
            from = at + 1
            guard at > 0, bytes[at - 1] == UInt8(ascii: "\""), at + key.utf8CodeUnitCount < bytes.count,
                  bytes[at + key.utf8CodeUnitCount] == UInt8(ascii: "\"") else { continue }
            var i = at - 1 + quoted
            while i < bytes.count, bytes[i] == UInt8(ascii: " ") { i += 1 }
            guard i < bytes.count, bytes[i] == UInt8(ascii: ":") else { continue }
            i += 1
            while i < bytes.count, bytes[i] == UInt8(ascii: " ") { i += 1 }
            return i
        }
        return nil
    }
}
