/// BARO-style robust deviation of a window after a change point against the window before it:
/// how many baseline spreads the level moved up.
public enum Deviation {
    /// For counts a missing interval is 0; for continuous values it is skipped.
    public static func score(before: [Float], after: [Float], metric: Metric) -> Double {
        let b = clean(before, isCount: metric.isCount), a = clean(after, isCount: metric.isCount)
        guard b.count >= 3, !a.isEmpty else { return 0 }
        if metric.isCount {
            let meanBefore = b.reduce(0, +) / Double(b.count)
            let variance = b.reduce(0) { $0 + ($1 - meanBefore) * ($1 - meanBefore) } / Double(b.count)
            let meanAfter = a.reduce(0, +) / Double(a.count)
            let spread = max(meanBefore, variance, 0.3).squareRoot()
            return max(0, (meanAfter - meanBefore) / spread)
        }
        let medianBefore = median(b), medianAfter = median(a)
        let mad = 1.4826 * median(b.map { abs($0 - medianBefore) })
        let spread = max(mad, 0.05 * abs(medianBefore), DetectorConfig.absoluteFloor(metric))
        return max(0, (medianAfter - medianBefore) / spread)
    }

    /// BARO's RobustScorer: the largest (x − median) / IQR after the change point, the median
    /// and interquartile range taken before it (IQR floored so that a flat series does not divide by 0).
    public static func robustScore(before b: [Double], after a: [Double]) -> Double {
        guard b.count >= 3, !a.isEmpty else { return 0 }
        let s = b.sorted()
        let q1 = s[Int(Double(s.count - 1) * 0.25)], q3 = s[Int(Double(s.count - 1) * 0.75)]
        let med = median(b)
        let iqr = max(q3 - q1, 1e-3 * max(abs(med), 1))
        return max(0, (a.max()! - med) / iqr)
    }

    /// N-sigma: the largest (x − mean) / σ after the change point, mean and σ taken before it.
    public static func sigmaScore(before b: [Double], after a: [Double]) -> Double {
        guard b.count >= 3, !a.isEmpty else { return 0 }
        let m = b.reduce(0, +) / Double(b.count)
        let sd = (b.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(b.count)).squareRoot()
        return max(0, (a.max()! - m) / max(sd, 1e-3 * max(abs(m), 1)))
    }

    static func clean(_ values: [Float], isCount: Bool) -> [Double] {
        isCount ? values.map { $0.isNaN ? 0 : Double($0) } : values.filter { !$0.isNaN }.map(Double.init)
    }

    public static func median(_ values: [Double]) -> Double {
        guard !values.isEmpty else { return 0 }
        let s = values.sorted()
        return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
    }
}
