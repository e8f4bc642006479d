#if canImport(Glibc)
import Glibc
#endif

/// The few top-level fields of one JSON-lines record that the join reads, found in one pass
/// over its bytes (values are skipped, never decoded): the join passes records on unchanged
/// but for the fields it appends.
struct RecordFields {
    var srcIP: Range<Int>?
    var dstIP: Range<Int>?
    var podUID: Range<Int>?
    var srcPort: UInt32?
    var dstPort: UInt32?
    var hasSrcPod = false
    /// Index of the closing brace; nil when the record is not one JSON object.
    var closingBrace: Int?

    init(_ bytes: UnsafeRawBufferPointer) {
        let n = bytes.count
        var i = 0
        func skipSpace() { while i < n, bytes[i] == 0x20 || bytes[i] == 0x0A || bytes[i] == 0x0D || bytes[i] == 0x09 { i += 1 } }
        skipSpace()
        guard i < n, bytes[i] == UInt8(ascii: "{") else { return }
        i += 1
        skipSpace()
        func close() {
            let at = i
            i += 1
            skipSpace()
            if i == n { closingBrace = at }  // nothing but spaces may follow
        }
        if i < n, bytes[i] == UInt8(ascii: "}") { close(); return }
        while i < n {
            guard bytes[i] == UInt8(ascii: "\"") else { return }
            guard let keyEnd = Self.stringEnd(bytes, from: i + 1) else { return }
            let key = (i + 1)..<keyEnd
            i = keyEnd + 1
            skipSpace()
            guard i < n, bytes[i] == UInt8(ascii: ":") else { return }
            i += 1
            skipSpace()
            guard i < n else { return }
            let valueStart = i
            guard let valueEnd = Self.valueEnd(bytes, from: i) else { return }
            i = valueEnd
            note(key, valueStart..<valueEnd, bytes)
            skipSpace()
            guard i < n else { return }
            if bytes[i] == UInt8(ascii: "}") { close(); return }
            guard bytes[i] == UInt8(ascii: ",") else { return }
            i += 1
            skipSpace()
        }
    }

    private mutating func note(_ key: Range<Int>, _ value: Range<Int>, _ bytes: UnsafeRawBufferPointer) {
        // Keys of interest are 6-8 bytes, starting "src_", "dst_" or "pod_".
        guard key.count >= 6, key.count <= 8 else { return }
        let base = bytes.baseAddress! + key.lowerBound
        func equals(_ name: StaticString) -> Bool {
            name.utf8CodeUnitCount == key.count && memcmp(base, name.utf8Start, key.count) == 0
        }
        let text: Range<Int>? = bytes[value.lowerBound] == UInt8(ascii: "\"") && value.count >= 2
            ? (value.lowerBound + 1)..<(value.upperBound - 1) : nil
        switch bytes[key.lowerBound] {
        case UInt8(ascii: "s"):
            if equals("src_ip") { srcIP = text }
            else if equals("src_port") { srcPort = Self.uint(bytes, value) }
            else if equals("src_pod") { hasSrcPod = true }
        case UInt8(ascii: "d"):
            if equals("dst_ip") { dstIP = text }
            else if equals("dst_port") { dstPort = Self.uint(bytes, value) }
        case UInt8(ascii: "p"):
            if equals("pod_uid") { podUID = text }
        default: break
        }
    }

    /// Index of the quote closing a string whose contents start at `from`.
    private static func stringEnd(_ bytes: UnsafeRawBufferPointer, from: Int) -> Int? {
        var i = from
        while i < bytes.count {
            guard let hit = memchr(bytes.baseAddress! + i, Int32(UInt8(ascii: "\"")), bytes.count - i) else { return nil }
            let quote = bytes.baseAddress!.distance(to: UnsafeRawPointer(hit))
            // Escaped when preceded by an odd number of backslashes.
            var slashes = 0
            while quote - slashes - 1 >= from, bytes[quote - slashes - 1] == UInt8(ascii: "\\") { slashes += 1 }
            if slashes % 2 == 0 { return quote }
            i = quote + 1
        }
        return nil
    }

    /// Index just past the value starting at `from` (a string, number, literal, object or array).
    private static func valueEnd(_ bytes: UnsafeRawBufferPointer, from: Int) -> Int? {
        var i = from
        switch bytes[i] {
        case UInt8(ascii: "\""):
            return stringEnd(bytes, from: i + 1).map { $0 + 1 }
        case UInt8(ascii: "{"), UInt8(ascii: "["):
            var depth = 0
            while i < bytes.count {
                switch bytes[i] {
                case UInt8(ascii: "\""):
                    guard let end = stringEnd(bytes, from: i + 1) else { return nil }
                    i = end
                case UInt8(ascii: "{"), UInt8(ascii: "["): depth += 1
                case UInt8(ascii: "}"), UInt8(ascii: "]"):
                    depth -= 1
                    if depth == 0 { return i + 1 }
                default: break
                }
                i += 1
            }
            return nil
        default:
            while i < bytes.count, bytes[i] != UInt8(ascii: ","), bytes[i] != UInt8(ascii: "}"),
                  bytes[i] != 0x20, bytes[i] != 0x0A, bytes[i] != 0x0D, bytes[i] != 0x09 { i += 1 }
            return i > from ? i : nil
        }
    }

    /// An unsigned integer below 2^32, or nil.
    private static func uint(_ bytes: UnsafeRawBufferPointer, _ value: Range<Int>) -> UInt32? {
        guard !value.isEmpty, value.count <= 10 else { return nil }
        var result: UInt64 = 0
        for i in value {
            let digit = bytes[i] &- UInt8(ascii: "0")
            guard digit < 10 else { return nil }
            result = result * 10 + UInt64(digit)
        }
        return result <= UInt64(UInt32.max) ? UInt32(result) : nil
    }
}
