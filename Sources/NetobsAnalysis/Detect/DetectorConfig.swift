/// Thresholds of the online detectors; the defaults work untrained, `netobs train` may tune them.
public struct DetectorConfig: Sendable, Codable, Equatable {
    /// Robust z (deviation over 1.4826 MAD) a continuous value must reach.
    public var zThreshold: Double = 6
    /// A continuous value must also be this much above the median (relative).
    public var minRelativeIncrease: Double = 0.3
    /// ln of the Poisson tail probability a count must fall under.
    public var logAlpha: Double = -13.8
    /// A count must exceed the baseline rate by at least this much.
    public var minCountExcess: Double = 3
    /// Smallest rate assumed for a count series (so that a quiet series is not hair-triggered).
    public var minRate: Double = 0.3
    /// SPOT risk level for the residuals of continuous series (0 = SPOT off).
    public var spotQ: Double = 1e-3
    public var window = 32
    /// Normal intervals a series needs before it may alarm (a median and MAD of fewer are noise).
    public var warmup = 20
    public var hysteresisK = 2
    public var hysteresisN = 3
    public var clearAfter = 3
    /// A baseline frozen this long (the new level persists) is relearned.
    public var maxFrozen = 600

    public init() {}

    /// Scale floors: the smallest spread assumed for a metric, in its unit (ns or count).
    public static func absoluteFloor(_ metric: Metric) -> Double {
        switch metric {
        case .httpLatencyP50, .httpLatencyP99, .turnLatencyP99, .dnsLatencyP99, .httpServerLatencyP50,
             .httpClientLatencyP50: 500_000
        case .rtt: 50_000
        default: 1
        }
    }
}
