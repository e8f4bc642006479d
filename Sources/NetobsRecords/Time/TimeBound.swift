/// `--since`/`--until` values: an RFC 3339 time (`2025-05-01T10:00:00Z`, fractions and offsets
/// allowed) or a duration before now (`5m`, `1h30m`, `90s`, `500ms`, `2d`), as unix ns.
public enum TimeBound {
    public struct Invalid: Error, Equatable, CustomStringConvertible {
        public let description: String
    }

    public static func parse(_ text: String, nowNs: UInt64) throws(Invalid) -> UInt64 {
        if let ago = duration(text) {
            guard ago <= nowNs else { throw Invalid(description: "\"\(text)\" reaches before 1970") }
            return nowNs - ago
        }
        if let ns = rfc3339(text) { return ns }
        throw Invalid(description: "\"\(text)\" is neither an RFC 3339 time (2025-05-01T10:00:00Z) nor a duration (5m, 1h30m)")
    }

    /// Go-style durations: one or more number+unit pairs, units ns, us, µs, ms, s, m, h, d.
    public static func duration(_ text: String) -> UInt64? {
        let units: [(String, UInt64)] = [("ns", 1), ("us", 1_000), ("µs", 1_000), ("ms", 1_000_000), ("s", 1_000_000_000),
                                         ("m", 60_000_000_000), ("h", 3_600_000_000_000), ("d", 86_400_000_000_000)]
        var rest = Substring(text)
        var total: UInt64 = 0
        guard !rest.isEmpty else { return nil }
        while !rest.isEmpty {
            let digits = rest.prefix { $0.isASCII && ($0.isNumber || $0 == ".") }
            guard !digits.isEmpty, let value = Double(digits) else { return nil }
            rest = rest.dropFirst(digits.count)
            // Longest unit first: "ms" before "m", "ns" before... none shorter.
            guard let (unit, scale) = units.sorted(by: { $0.0.count > $1.0.count }).first(where: { rest.hasPrefix($0.0) }) else {
                return nil
            }
            rest = rest.dropFirst(unit.count)
            let ns = value * Double(scale)
            guard ns < 1e19 else { return nil }
            total &+= UInt64(ns.rounded())
        }
        return total
    }

    /// `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)`; `t`, `z` and a space for `T` accepted.
    public static func rfc3339(_ text: String) -> UInt64? {
        let b = Array(text.utf8)
        func number(_ at: Int, _ n: Int) -> Int? {
            guard at + n <= b.count else { return nil }
            var v = 0
            for i in at..<(at + n) {
                guard b[i] >= 0x30 && b[i] <= 0x39 else { return nil }
                v = v * 10 + Int(b[i] - 0x30)
            }
            return v
        }
        func byte(_ at: Int, _ options: String) -> Bool { at < b.count && options.utf8.contains(b[at]) }
        guard let year = number(0, 4), byte(4, "-"), let month = number(5, 2), byte(7, "-"), let day = number(8, 2),
              byte(10, "Tt "), let hour = number(11, 2), byte(13, ":"), let minute = number(14, 2), byte(16, ":"),
              let second = number(17, 2), year >= 1970, (1...12).contains(month),
              (1...CivilTime.daysInMonth(year, month)).contains(day), hour < 24, minute < 60, second < 61 else { return nil }
        var i = 19
        var fraction: UInt64 = 0
        if byte(i, ".") {
            i += 1
            var digits = 0
            while i < b.count, b[i] >= 0x30 && b[i] <= 0x39 {
                if digits < 9 { fraction = fraction * 10 + UInt64(b[i] - 0x30) }
                digits += 1
                i += 1
            }
            guard digits > 0 else { return nil }
            for _ in digits..<max(digits, 9) { fraction *= 10 }
        }
        var offset = 0
        if byte(i, "Zz") {
            i += 1
        } else if byte(i, "+-"), let oh = number(i + 1, 2), byte(i + 3, ":"), let om = number(i + 4, 2), oh < 24, om < 60 {
            offset = (oh * 60 + om) * 60 * (b[i] == UInt8(ascii: "-") ? -1 : 1)
            i += 6
        } else {
            return nil
        }
        guard i == b.count else { return nil }
        let seconds = CivilTime.days(year: year, month: month, day: day) * 86_400 + hour * 3600 + minute * 60 + second - offset
        guard seconds >= 0 else { return nil }
        return UInt64(seconds) * 1_000_000_000 + fraction
    }
}
