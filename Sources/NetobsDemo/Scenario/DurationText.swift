import Foundation

/// Durations as scenario files and the command line write them: "90s", "2m", "500ms",
/// "1m30s", "1h"; a bare number is seconds. Kept as whole nanoseconds.
public enum DurationText {
    private static let units: [(suffix: String, ns: Double)] = [
        ("ms", 1e6), ("us", 1e3), ("ns", 1), ("h", 3600e9), ("m", 60e9), ("s", 1e9),
    ]

    /// Nanoseconds, or nil when `text` is not a non-negative duration.
    public static func parse(_ text: String) -> Int64? {
        let text = text.trimmingCharacters(in: .whitespaces)
        if let seconds = Double(text) { return seconds >= 0 && seconds.isFinite ? Int64(seconds * 1e9) : nil }
        var rest = Substring(text)
        var total = 0.0
        guard !rest.isEmpty else { return nil }
        while !rest.isEmpty {
            let number = rest.prefix { $0.isNumber || $0 == "." }
            guard !number.isEmpty, let value = Double(number) else { return nil }
            rest = rest.dropFirst(number.count)
            guard let unit = units.first(where: { rest.hasPrefix($0.suffix) }) else { return nil }
            rest = rest.dropFirst(unit.suffix.count)
            total += value * unit.ns
        }
        return total < 9e18 ? Int64(total) : nil
    }

    /// "1m30s", "250ms", "0s": the shortest exact form in whole milliseconds.
    public static func format(_ ns: Int64) -> String {
        let ms = ns / 1_000_000
        if ms % 1000 != 0 { return "\(ms)ms" }
        let seconds = ms / 1000
        if seconds >= 60, seconds % 60 != 0 { return "\(seconds / 60)m\(seconds % 60)s" }
        if seconds >= 60 { return "\(seconds / 60)m" }
        return "\(seconds)s"
    }
}
