import Foundation

/// Everything the analysis is configured with; `netobs train` writes it, `netobs detect` and the
/// controller load it. The defaults work untrained.
public struct AnalysisModel: Sendable, Codable, Equatable {
    public var version = 1
    public var intervalNs: UInt64 = 1_000_000_000
    /// Records may arrive this late after their interval ends (online use).
    public var graceNs: UInt64 = 1_000_000_000
    /// Intervals with no alarm after which an incident closes.
    public var closeGap = 3
    /// An incident opens only once one of its alarms reaches this score (z or Poisson z): a
    /// series barely over its threshold for a few intervals is noise, a fault moves some series
    /// far. Optional so that models written before it still load (nil: `defaultIncidentScore`).
    public var incidentScore: Double?
    public static let defaultIncidentScore = 12.0
    /// An open incident is confirmed (reported `closed` when it ends) once its pods were
    /// anomalous in this many intervals from its opening on (a low-rate fault may alarm strongly
    /// once, then weakly); else it was a blip (a two-interval RTT spike on a busy machine),
    /// reported `dismissed`. Optional like `incidentScore` (nil: `defaultConfirmIntervals`).
    public var confirmIntervals: Int?
    public static let defaultConfirmIntervals = 2
    /// An incident opens in the first interval in which this many series of at least
    /// `corroboratingPods` pods are anomalous at `incidentScore`, before their hysteresis alarms
    /// (0: off). Optional like `incidentScore` (nil: the defaults).
    public var corroboratingSeries: Int?
    public var corroboratingPods: Int?
    public static let defaultCorroboratingSeries = 3, defaultCorroboratingPods = 2
    public var detector = DetectorConfig()
    public var localizer = Localizer.Config()
    public var classifier = FaultClassifier.default
    public var retention = SeriesStore.Retention()
    /// What the model was trained on (nil for the defaults).
    public var trainedOn: String?

    public init() {}

    public static func load(_ data: Data) throws -> AnalysisModel {
        try JSONDecoder().decode(AnalysisModel.self, from: data)
    }

    public func encoded() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return try encoder.encode(self)
    }
}
