import ArgumentParser

extension Duration {
    /// "1s", "500ms", "2m", "100us", "1h"; a bare number is seconds.
    static func parse(_ text: String) throws -> Duration {
        let units: [(String, Double)] = [("ns", 1e-9), ("us", 1e-6), ("ms", 1e-3), ("s", 1), ("m", 60), ("h", 3600)]
        for (suffix, scale) in units.sorted(by: { $0.0.count > $1.0.count }) where text.hasSuffix(suffix) {
            if let value = Double(text.dropLast(suffix.count)), value >= 0 {
                return .nanoseconds(Int64(value * scale * 1e9))
            }
        }
        if let seconds = Double(text), seconds >= 0 { return .nanoseconds(Int64(seconds * 1e9)) }
        throw ValidationError("'\(text)' is not a duration (examples: 1s, 500ms, 2m)")
    }

    var nanoseconds: UInt64 {
        let (seconds, attoseconds) = components
        return UInt64(max(0, seconds)) * 1_000_000_000 + UInt64(max(0, attoseconds) / 1_000_000_000)
    }
}
