#if canImport(Glibc)
import Glibc
#endif

/// An IP address as 128 bits, for hashing: IPv4 as its IPv4-mapped IPv6 form, so "10.0.0.1"
/// and "::ffff:10.0.0.1" are the same key. Parsed from the bytes of a record without making
/// a String (the join's hot path).
struct IPKey: Hashable, Sendable {
    var high: UInt64
    var low: UInt64

    init?(_ text: String) {
        var text = text
        guard let key = text.withUTF8({ IPKey(UnsafeRawBufferPointer($0)) }) else { return nil }
        self = key
    }

    init?(_ bytes: UnsafeRawBufferPointer) {
        if let v4 = IPKey.parseIPv4(bytes) {
            high = 0
            low = 0xffff_0000_0000 | UInt64(v4)
            return
        }
        guard bytes.count >= 2, bytes.count < 64, bytes.contains(UInt8(ascii: ":")) else { return nil }
        var text = (UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0))
        var address = in6_addr()
        let ok = withUnsafeMutableBytes(of: &text) { buffer -> Bool in
            buffer.copyMemory(from: bytes)
            buffer[bytes.count] = 0
            return inet_pton(AF_INET6, buffer.baseAddress!.assumingMemoryBound(to: CChar.self), &address) == 1
        }
        guard ok else { return nil }
        (high, low) = withUnsafeBytes(of: &address) { raw in
            (UInt64(bigEndian: raw.loadUnaligned(fromByteOffset: 0, as: UInt64.self)),
             UInt64(bigEndian: raw.loadUnaligned(fromByteOffset: 8, as: UInt64.self)))
        }
    }

    /// Dotted quad, exactly four decimal parts of 0...255.
    private static func parseIPv4(_ bytes: UnsafeRawBufferPointer) -> UInt32? {
        guard bytes.count >= 7, bytes.count <= 15 else { return nil }
        var result: UInt32 = 0
        var part: UInt32 = 0
        var digits = 0
        var dots = 0
        for byte in bytes {
            if byte == UInt8(ascii: ".") {
                guard digits > 0, dots < 3 else { return nil }
                result = result << 8 | part
                part = 0
                digits = 0
                dots += 1
            } else if byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") {
                part = part * 10 + UInt32(byte - UInt8(ascii: "0"))
                digits += 1
                guard digits <= 3, part <= 255 else { return nil }
            } else {
                return nil
            }
        }
        guard digits > 0, dots == 3 else { return nil }
        return result << 8 | part
    }
}
