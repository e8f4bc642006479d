/// A linear map from a data domain to pixels, with "nice" tick values (1, 2, 5 x 10^k steps).
public struct LinearScale: Sendable, Equatable {
    public var domain: ClosedRange<Double>
    public var range: ClosedRange<Double>
    /// Flip for y axes: domain's lower bound at the range's upper bound.
    public var inverted: Bool

    public init(domain: ClosedRange<Double>, range: ClosedRange<Double>, inverted: Bool = false) {
        self.domain = domain.lowerBound == domain.upperBound
            ? domain.lowerBound...(domain.lowerBound + 1) : domain
        self.range = range
        self.inverted = inverted
    }

    public func callAsFunction(_ v: Double) -> Double {
        let t = (v - domain.lowerBound) / (domain.upperBound - domain.lowerBound)
        let span = range.upperBound - range.lowerBound
        return inverted ? range.upperBound - t * span : range.lowerBound + t * span
    }

    /// The step of the form {1, 2, 5} x 10^k nearest to span / target.
    public static func niceStep(span: Double, target: Int) -> Double {
        guard span > 0, span.isFinite, target > 0 else { return 1 }
        let raw = span / Double(target)
        let magnitude = pow10(floorLog10(raw))
        let fraction = raw / magnitude
        let nice: Double = fraction < 1.5 ? 1 : fraction < 3 ? 2 : fraction < 7 ? 5 : 10
        return nice * magnitude
    }

    /// The y domain of a chart of values >= 0: 0 up to the max rounded up to a nice step.
    public static func zeroBasedDomain(max: Double, targetTicks: Int = 4) -> ClosedRange<Double> {
        guard max > 0, max.isFinite else { return 0...1 }
        let step = niceStep(span: max, target: targetTicks)
        return 0...((max / step).rounded(.up) * step)
    }

    /// Multiples of the nice step inside the domain.
    public func ticks(target: Int = 4) -> [Double] {
        let step = Self.niceStep(span: domain.upperBound - domain.lowerBound, target: target)
        // The slack keeps 0.3 / 0.1 = 2.9999999999999996 from losing the tick at 0.3.
        let first = (domain.lowerBound / step - 1e-9).rounded(.up)
        let last = (domain.upperBound / step + 1e-9).rounded(.down)
        guard first <= last else { return [] }
        // Multiplying (not adding) keeps 0.1 * 3 from drifting to 0.30000000000000004 labels.
        return stride(from: first, through: last, by: 1).map { ($0 * step * 1e9).rounded() / 1e9 }
    }

    private static func floorLog10(_ v: Double) -> Int {
        var e = 0
        var x = v
        while x >= 10 { x /= 10; e += 1 }
        while x < 1 { x *= 10; e -= 1 }
        return e
    }

    private static func pow10(_ e: Int) -> Double {
        var r = 1.0
        if e >= 0 { for _ in 0..<e { r *= 10 } } else { for _ in 0..<(-e) { r /= 10 } }
        return r
    }
}

/// Labels for axes and tables.
public enum Format {
    /// 0, 2.5, 12, 1.2k, 3.4M: short, no trailing zeros.
    public static func number(_ v: Double) -> String {
        let a = abs(v)
        if a >= 1e6 { return trimmed(v / 1e6, digits: 1) + "M" }
        if a >= 1e4 { return trimmed(v / 1e3, digits: 1) + "k" }
        if a >= 100 || a == a.rounded() { return String(Int64(v.rounded())) }
        return trimmed(v, digits: a >= 10 ? 1 : a >= 1 ? 2 : 3)
    }

    /// A duration in nanoseconds as µs, ms or s.
    public static func duration(ns: UInt64) -> String {
        let v = Double(ns)
        if v >= 1e9 { return number(v / 1e9) + " s" }
        if v >= 1e6 { return number(v / 1e6) + " ms" }
        return number(v / 1e3) + " µs"
    }

    public static func percent(_ ratio: Double) -> String { number(ratio * 100) + "%" }

    /// Unix nanoseconds as HH:MM:SS (UTC).
    public static func clock(ns: UInt64) -> String {
        let s = ns / 1_000_000_000
        let (h, m, sec) = (s / 3600 % 24, s / 60 % 60, s % 60)
        return [h, m, sec].map { String($0).leftPadded(to: 2) }.joined(separator: ":")
    }

    private static func trimmed(_ v: Double, digits: Int) -> String {
        var scale = 1.0
        for _ in 0..<digits { scale *= 10 }
        let r = (v * scale).rounded() / scale
        var s = String(r)
        if s.contains("e") { return String(Int64(r)) }
        while s.contains("."), s.hasSuffix("0") { s.removeLast() }
        if s.hasSuffix(".") { s.removeLast() }
        return s
    }
}

/// Time axis ticks: the smallest step of the usual clock steps giving at most `maxTicks`.
public enum TimeTicks {
    static let stepsSeconds: [UInt64] = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 21600, 43200, 86400]

    public static func ticks(fromNs: UInt64, toNs: UInt64, maxTicks: Int = 6) -> [UInt64] {
        guard toNs > fromNs else { return [fromNs] }
        let span = toNs - fromNs
        let step = (stepsSeconds.map { $0 * 1_000_000_000 }.first { span / $0 + 1 <= UInt64(max(1, maxTicks)) })
            ?? (span / UInt64(max(1, maxTicks)) + 1)
        let first = (fromNs + step - 1) / step * step
        return Array(stride(from: first, through: toNs, by: Int(step)))
    }
}
