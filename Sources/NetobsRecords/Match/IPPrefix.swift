#if canImport(Glibc)
import Glibc
#endif

/// An address or a CIDR block (`10.0.0.5`, `10.96.0.0/12`, `fd00::/8`), tested against the
/// textual addresses of records. Records show IPv4-mapped IPv6 addresses as IPv4, so an IPv4
/// prefix is compared with IPv4 record addresses only.
public struct IPPrefix: Sendable, Equatable {
    let bytes: [UInt8]
    let bits: Int

    public init?(_ text: String) {
        let parts = text.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        guard let address = Self.parse(String(parts[0])) else { return nil }
        let max = address.count * 8
        if parts.count == 2 {
            guard let n = Int(parts[1]), (0...max).contains(n) else { return nil }
            bits = n
        } else {
            bits = max
        }
        bytes = address
    }

    public func contains(_ addressText: String) -> Bool {
        guard !addressText.isEmpty, let address = Self.parse(addressText), address.count == bytes.count else { return false }
        var left = bits
        for i in 0..<bytes.count where left > 0 {
            let take = min(8, left)
            let mask = UInt8(truncatingIfNeeded: 0xFF << (8 - take))
            if address[i] & mask != bytes[i] & mask { return false }
            left -= take
        }
        return true
    }

    /// 4 bytes for IPv4, 16 for IPv6, nil for anything else.
    static func parse(_ text: String) -> [UInt8]? {
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 {
            return withUnsafeBytes(of: &v4) { Array($0) }
        }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, text, &v6) == 1 {
            return withUnsafeBytes(of: &v6) { Array($0) }
        }
        return nil
    }
}
