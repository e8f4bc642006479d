import Foundation

/// Streaming peaks-over-threshold (SPOT, Siffer et al., KDD 2017): calibrates an initial
/// threshold `t` at a high empirical quantile, fits a generalized Pareto distribution to the
/// excesses over `t` (method of moments, O(1) memory: count, sum, sum of squares), and flags
/// values above `zq`, the level exceeded with probability `q`. Normal peaks keep refining
/// the fit; flagged values do not.
public struct SPOT: Sendable {
    public let q: Double
    public let calibration: Int
    public let initialQuantile: Double
    private var warmup: [Double] = []
    public private(set) var t: Double = .nan
    public private(set) var threshold: Double = .infinity
    private var n = 0.0
    private var peaks = 0.0, peakSum = 0.0, peakSquares = 0.0

    public init(q: Double = 1e-3, calibration: Int = 40, initialQuantile: Double = 0.9) {
        self.q = q
        self.calibration = max(5, calibration)
        self.initialQuantile = initialQuantile
    }

    public var isCalibrated: Bool { !t.isNaN }

    /// Feeds one value; true when it is above the extreme-value threshold.
    public mutating func update(_ x: Double) -> Bool {
        guard isCalibrated else {
            warmup.append(x)
            if warmup.count >= calibration { calibrate() }
            return false
        }
        if x > threshold { return true }
        n += 1
        if x > t {
            let y = x - t
            peaks += 1
            peakSum += y
            peakSquares += y * y
            fit()
        }
        return false
    }

    private mutating func calibrate() {
        let sorted = warmup.sorted()
        t = sorted[min(sorted.count - 1, Int(Double(sorted.count) * initialQuantile))]
        n = Double(sorted.count)
        for x in sorted where x > t {
            peaks += 1
            peakSum += x - t
            peakSquares += (x - t) * (x - t)
        }
        warmup = []
        fit()
    }

    /// zq = t + σ/ξ ((q n / Nt)^-ξ − 1), or t − σ ln(q n / Nt) when ξ ≈ 0.
    private mutating func fit() {
        let excess = Self.gpd(peaks: peaks, sum: peakSum, squares: peakSquares)
        let r = q * n / max(peaks, 1)
        guard r < 1 else {
            threshold = t + excess.sigma
            return
        }
        threshold = abs(excess.xi) < 1e-6 ? t - excess.sigma * log(r)
            : t + excess.sigma / excess.xi * (pow(r, -excess.xi) - 1)
    }

    /// Method-of-moments GPD fit; an exponential tail when too few peaks or no spread.
    static func gpd(peaks: Double, sum: Double, squares: Double) -> (xi: Double, sigma: Double) {
        guard peaks > 0 else { return (0, 1e-9) }
        let mean = sum / peaks
        let variance = max(0, squares / peaks - mean * mean)
        guard peaks >= 3, variance > 1e-12 * max(1, mean * mean) else { return (0, max(mean, 1e-9)) }
        let ratio = mean * mean / variance
        // ξ < 0.45 keeps the variance finite and the threshold from running away.
        let xi = min(0.45, 0.5 * (1 - ratio))
        let sigma = 0.5 * mean * (1 + ratio)
        return (xi, max(sigma, 1e-9))
    }
}
