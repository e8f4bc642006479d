/// The online detector of one series: a robust baseline (median/MAD, frozen while the series
/// is anomalous), a SPOT threshold on the residuals of continuous series, a Poisson tail test
/// for counts, and k-of-n hysteresis.
public struct SeriesDetector: Sendable {
    public struct Verdict: Sendable, Equatable {
        public var anomalous: Bool
        /// Robust z (continuous) or (x − λ)/√λ (counts); 0 when not ready.
        public var score: Double
        public var alarm: Bool
        /// First anomalous interval of the current run (the change point).
        public var runStart: Int?
    }

    public let isCount: Bool
    let floor: Double
    private var baseline: RobustBaseline
    private var spot: SPOT?
    private var hysteresis: Hysteresis
    private var frozen = 0
    private var runStart: Int?
    private var lastAnomalous = Int.min / 2
    /// The two counts before this interval's (a count series' short window).
    private var previous = (0.0, 0.0)

    public init(metric: Metric, config: DetectorConfig) {
        isCount = metric.isCount
        floor = DetectorConfig.absoluteFloor(metric)
        baseline = RobustBaseline(window: config.window)
        spot = metric.isCount || config.spotQ <= 0 ? nil : SPOT(q: config.spotQ)
        hysteresis = Hysteresis(k: config.hysteresisK, n: config.hysteresisN, clearAfter: config.clearAfter)
    }

    /// - Parameter learning: false keeps normal values out of the baseline too (the caller knows an
    ///   incident is open: a fault also moves series the wrong way, e.g. fast 5xx lower a p50).
    public mutating func update(_ x: Double, interval: Int, config: DetectorConfig, learning: Bool = true) -> Verdict {
        guard x.isFinite else { return Verdict(anomalous: false, score: 0, alarm: hysteresis.isOn, runStart: runStart) }
        defer { if isCount { previous = (previous.1, x) } }
        guard baseline.pushed >= config.warmup else {
            learn(x)
            return Verdict(anomalous: false, score: 0, alarm: false, runStart: nil)
        }
        let (anomalous, score) = isCount ? testCount(x, window: previous.0 + previous.1 + x, config) : testContinuous(x, config)
        if anomalous {
            lastAnomalous = interval
            if runStart == nil { runStart = interval }
            frozen += 1
            if frozen > config.maxFrozen {
                baseline.reset()
                frozen = 0
            }
        } else {
            frozen = 0
            if learning { learn(x) }
        }
        let alarm = hysteresis.update(anomalous)
        let start = runStart
        // A run that did not (or no longer does) hold the alarm is forgotten once it is n old.
        if !alarm, interval - lastAnomalous >= config.hysteresisN - 1 { runStart = nil }
        return Verdict(anomalous: anomalous, score: score, alarm: alarm, runStart: alarm ? start : nil)
    }

    private mutating func learn(_ x: Double) {
        baseline.push(x)
        if baseline.count >= 3 { _ = spot?.update(x - baseline.median) }
    }

    private func testContinuous(_ x: Double, _ config: DetectorConfig) -> (Bool, Double) {
        let median = baseline.median
        // The upper spread too: the p50 of a service whose endpoints differ tenfold, at a few
        // requests an interval, jumps between their levels with no fault.
        let scale = max(baseline.scale, baseline.upperScale, 0.05 * abs(median), floor)
        let z = (x - median) / scale
        var anomalous = z >= config.zThreshold && x >= median * (1 + config.minRelativeIncrease)
        if anomalous, let s = spot, s.isCalibrated { anomalous = x - median > s.threshold }
        return (anomalous, max(0, z))
    }

    /// This interval's count, or (when this one is above the rate too) the last three together:
    /// a fault that fails a few calls an interval on a quiet pod is sustained, not large.
    private func testCount(_ x: Double, window: Double, _ config: DetectorConfig) -> (Bool, Double) {
        let lambda = max(baseline.mean, baseline.variance, config.minRate)
        let one = x >= lambda + config.minCountExcess && PoissonTest.logUpperTail(x, lambda: lambda) < config.logAlpha
        let three = x > lambda && window >= 3 * lambda + 2 * config.minCountExcess
            && PoissonTest.logUpperTail(window, lambda: 3 * lambda) < config.logAlpha
        let score = max((x - lambda) / lambda.squareRoot(), x > lambda ? (window - 3 * lambda) / (3 * lambda).squareRoot() : 0)
        return (one || three, max(0, score))
    }
}
