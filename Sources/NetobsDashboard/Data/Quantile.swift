/// Weighted quantile: the smallest value whose cumulative weight reaches q of the total.
enum Quantile {
    static func of(_ samples: [LatencySample], _ q: Double) -> UInt64? {
        let total = samples.reduce(UInt64(0)) { $0 + $1.weight }
        guard total > 0 else { return nil }
        let rank = max(1, (q * Double(total)).rounded(.up))
        var seen: UInt64 = 0
        for s in samples.sorted(by: { $0.ns < $1.ns }) {
            seen += s.weight
            if Double(seen) >= rank { return s.ns }
        }
        return samples.map(\.ns).max()
    }
}
