/// Text form of the 16-byte address fields of the kernel records.
public enum IPAddress {
    /// IPv4 uses the first four bytes. An IPv4-mapped IPv6 address (a dual-stack socket
    /// talking IPv4) is shown as the IPv4 address it is, with `ipVersion` 4.
    public static func format(_ bytes: [UInt8], ipVersion: UInt8) -> (text: String, ipVersion: UInt8) {
        if ipVersion == 4 {
            return (bytes[0..<4].map(String.init).joined(separator: "."), 4)
        }
        if bytes[0..<10].allSatisfy({ $0 == 0 }) && bytes[10] == 0xff && bytes[11] == 0xff {
            return (bytes[12..<16].map(String.init).joined(separator: "."), 4)
        }
        return (formatIPv6(bytes), 6)
    }

    /// RFC 5952: lowercase hex, the longest run (2+) of zero groups as "::".
    static func formatIPv6(_ bytes: [UInt8]) -> String {
        let groups = (0..<8).map { UInt16(bytes[2 * $0]) << 8 | UInt16(bytes[2 * $0 + 1]) }
        var best = (start: -1, length: 0)
        var run = (start: -1, length: 0)
        for (i, g) in groups.enumerated() {
            if g == 0 {
                run = run.start < 0 ? (i, 1) : (run.start, run.length + 1)
                if run.length > best.length { best = run }
            } else {
                run = (-1, 0)
            }
        }
        if best.length < 2 { return groups.map { String($0, radix: 16) }.joined(separator: ":") }
        let head = groups[..<best.start].map { String($0, radix: 16) }.joined(separator: ":")
        let tail = groups[(best.start + best.length)...].map { String($0, radix: 16) }.joined(separator: ":")
        return head + "::" + tail
    }
}
