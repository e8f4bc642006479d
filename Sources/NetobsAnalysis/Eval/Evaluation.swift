/// Scores anomalies against labels.
///
/// - Detection: an anomaly is a true positive when it overlaps a labelled fault on the same
///   pod; precision over anomalies, recall over labels, F1.
/// - Ranking: for each label, the first anomaly overlapping it in time (any pod); AC@k = share
///   of labels whose pod is in that anomaly's top k (0 when none); Avg@5 = mean of AC@1..5.
/// - Kind accuracy: over detected labels, the matching anomaly's kind equals the label's.
/// - Delay: detected_ns − start_ns of each detected label, in ns and intervals; the median.
public struct Evaluation: Sendable, Codable, Equatable {
    public var runs = 0
    public var labels = 0
    public var anomalies = 0
    public var truePositives = 0
    public var detectedLabels = 0
    public var precision = 0.0
    public var recall = 0.0
    public var f1 = 0.0
    public var acAt1 = 0.0
    public var acAt3 = 0.0
    public var avgAt5 = 0.0
    public var kindAccuracy = 0.0
    public var kindCorrect = 0
    public var medianDelayNs: UInt64 = 0
    public var medianDelayIntervals = 0.0
    public var intervalNs: UInt64 = 1_000_000_000
    /// Per fault kind: labels, detected, kind right, AC@1.
    public var byKind: [String: KindFigures] = [:]
    public var missed: [String] = []
    public var falsePositives: [String] = []
    /// Incidents reported open and then withdrawn as blips (nil when scoring stored anomalies).
    public var dismissed: Int?

    public struct KindFigures: Sendable, Codable, Equatable {
        public var labels = 0
        public var detected = 0
        public var kindCorrect = 0
        public var acAt1 = 0
    }

    enum CodingKeys: String, CodingKey {
        case runs, labels, anomalies, precision, recall, f1, missed
        case truePositives = "true_positives", detectedLabels = "detected_labels"
        case acAt1 = "ac_at_1", acAt3 = "ac_at_3", avgAt5 = "avg_at_5"
        case kindAccuracy = "kind_accuracy", kindCorrect = "kind_correct"
        case medianDelayNs = "median_delay_ns", medianDelayIntervals = "median_delay_intervals"
        case intervalNs = "interval_ns", byKind = "by_kind", falsePositives = "false_positives", dismissed
    }

    public init() {}

    /// Scores runs (each its own anomalies and labels) together.
    public static func score(_ runs: [(anomalies: [Anomaly], labels: [FaultLabel])], intervalNs: UInt64) -> Evaluation {
        var e = Evaluation()
        e.intervalNs = intervalNs
        var hits = [Int](repeating: 0, count: 6)
        var delays: [UInt64] = []
        for (anomalies, labels) in runs {
            e.runs += 1
            e.labels += labels.count
            e.anomalies += anomalies.count
            for a in anomalies {
                if labels.contains(where: { $0.matches(pod: a.pod, namespace: a.namespace) && $0.overlaps(startNs: a.startNs, endNs: a.endNs) }) {
                    e.truePositives += 1
                } else {
                    e.falsePositives.append("\(a.namespace)/\(a.pod) \(a.kind) [\(a.startNs), \(a.endNs))")
                }
            }
            for l in labels {
                var figures = e.byKind[l.kind] ?? KindFigures()
                figures.labels += 1
                let overlapping = anomalies.filter { l.overlaps(startNs: $0.startNs, endNs: $0.endNs) }
                    .sorted { $0.startNs < $1.startNs }
                if let first = overlapping.first {
                    let rank = first.ranking.firstIndex { l.matches(pod: $0.pod, namespace: $0.namespace) }
                    if let rank { for k in 1...5 where rank < k { hits[k] += 1 } }
                    if rank == 0 { figures.acAt1 += 1 }
                }
                if let match = overlapping.first(where: { l.matches(pod: $0.pod, namespace: $0.namespace) }) {
                    e.detectedLabels += 1
                    figures.detected += 1
                    delays.append(match.detectedNs > l.startNs ? match.detectedNs - l.startNs : 0)
                    if match.kind == l.kind {
                        e.kindCorrect += 1
                        figures.kindCorrect += 1
                    }
                } else {
                    e.missed.append("\(l.namespace)/\(l.pod) \(l.kind) [\(l.startNs), \(l.endNs))")
                }
                e.byKind[l.kind] = figures
            }
        }
        e.precision = e.anomalies > 0 ? Double(e.truePositives) / Double(e.anomalies) : 0
        e.recall = e.labels > 0 ? Double(e.detectedLabels) / Double(e.labels) : 0
        e.f1 = e.precision + e.recall > 0 ? 2 * e.precision * e.recall / (e.precision + e.recall) : 0
        if e.labels > 0 {
            let n = Double(e.labels)
            e.acAt1 = Double(hits[1]) / n
            e.acAt3 = Double(hits[3]) / n
            e.avgAt5 = (1...5).reduce(0.0) { $0 + Double(hits[$1]) / n } / 5
        }
        e.kindAccuracy = e.detectedLabels > 0 ? Double(e.kindCorrect) / Double(e.detectedLabels) : 0
        if !delays.isEmpty {
            let sorted = delays.sorted()
            let mid = sorted.count / 2
            e.medianDelayNs = sorted.count % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
            e.medianDelayIntervals = Double(e.medianDelayNs) / Double(intervalNs)
        }
        return e
    }
}
