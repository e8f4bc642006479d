/// Scores anomalies against labels.
///
/// - Detection: an anomaly is a true positive when it overlaps a labelled fault on the same pod
///   (for a partition, either of its two pods); precision over anomalies, recall over labels, F1.
/// - Ranking: for each label, the anomalies overlapping it in time (any pod) and the best rank
///   of its pod in their rankings (with two faults at once, the incident that names the second
///   fault counts for it, not the first fault's incident that happens to start earlier); AC@k =
///   share of labels whose pod is in that top k (0 when none); Avg@5 = mean of AC@1..5.
/// - Kind accuracy: over detected labels, the matching anomaly's kind equals the label's.
/// - Delay: detected_ns − start_ns of each detected label, in ns and intervals; the median.
/// - Per kind: the same per label kind, and precision per reported kind (anomalies reported as
///   that kind that match a label of that kind, pod and time).
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
    /// Per fault kind (of the labels; precision per reported kind).
    public var byKind: [String: KindFigures] = [:]
    public var missed: [String] = []
    public var falsePositives: [String] = []
    /// Incidents reported open and then withdrawn as blips (nil when scoring stored anomalies).
    public var dismissed: Int?
    /// Other rankers scored on the same incidents (`netobs eval --baselines`).
    public var baselines: [String: Evaluation]?
    /// Ranking alone, each ranker given the labelled fault's own start and end (no detection):
    /// AC@1, AC@3, Avg@5 per ranker.
    public var rankingAtFaultStart: [String: RankingFigures]?
    /// What was scored, e.g. the runs and their seeds.
    public var notes: [String]?

    public struct KindFigures: Sendable, Codable, Equatable {
        public var labels = 0
        public var detected = 0
        public var kindCorrect = 0
        /// Labels whose pod ranked within the top k (index k − 1).
        public var hits = [Int](repeating: 0, count: 5)
        /// Anomalies reported as this kind, and those matching a label of this kind.
        public var reported = 0
        public var reportedCorrect = 0
        public var recall = 0.0
        public var precision = 0.0
        public var acAt1 = 0.0
        public var acAt3 = 0.0
        public var avgAt5 = 0.0
        public var kindAccuracy = 0.0

        public init() {}

        enum CodingKeys: String, CodingKey {
            case labels, detected, hits, reported, recall, precision
            case kindCorrect = "kind_correct", reportedCorrect = "reported_correct", acAt1 = "ac_at_1", acAt3 = "ac_at_3"
            case avgAt5 = "avg_at_5", kindAccuracy = "kind_accuracy"
        }

        mutating func finish() {
            recall = labels > 0 ? Double(detected) / Double(labels) : 0
            precision = reported > 0 ? Double(reportedCorrect) / Double(reported) : 0
            if labels > 0 {
                acAt1 = Double(hits[0]) / Double(labels)
                acAt3 = Double(hits[2]) / Double(labels)
                avgAt5 = Double(hits.reduce(0, +)) / Double(labels) / 5
            }
            kindAccuracy = detected > 0 ? Double(kindCorrect) / Double(detected) : 0
        }
    }

    public struct RankingFigures: Sendable, Codable, Equatable {
        public var labels = 0
        public var acAt1 = 0.0
        public var acAt3 = 0.0
        public var avgAt5 = 0.0
        public var byKind: [String: [Double]] = [:]

        enum CodingKeys: String, CodingKey {
            case labels
            case acAt1 = "ac_at_1", acAt3 = "ac_at_3", avgAt5 = "avg_at_5", byKind = "by_kind_ac1_ac3_avg5"
        }

        /// `ranks`: per label, its kind and the 0-based rank of its pod (nil: not ranked).
        public init(ranks: [(kind: String, rank: Int?)]) {
            labels = ranks.count
            func figures(_ rs: [Int?]) -> [Double] {
                guard !rs.isEmpty else { return [0, 0, 0] }
                let n = Double(rs.count)
                let at = { (k: Int) in Double(rs.filter { $0.map { $0 < k } ?? false }.count) / n }
                return [at(1), at(3), (1...5).reduce(0.0) { $0 + at($1) } / 5]
            }
            let all = figures(ranks.map(\.rank))
            (acAt1, acAt3, avgAt5) = (all[0], all[1], all[2])
            for kind in Set(ranks.map(\.kind)) { byKind[kind] = figures(ranks.filter { $0.kind == kind }.map(\.rank)) }
        }
    }

    enum CodingKeys: String, CodingKey {
        case runs, labels, anomalies, precision, recall, f1, missed, baselines, notes
        case truePositives = "true_positives", detectedLabels = "detected_labels"
        case acAt1 = "ac_at_1", acAt3 = "ac_at_3", avgAt5 = "avg_at_5"
        case kindAccuracy = "kind_accuracy", kindCorrect = "kind_correct"
        case medianDelayNs = "median_delay_ns", medianDelayIntervals = "median_delay_intervals"
        case intervalNs = "interval_ns", byKind = "by_kind", falsePositives = "false_positives", dismissed
        case rankingAtFaultStart = "ranking_at_fault_start"
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
                let matching = labels.filter { $0.matches(pod: a.pod, namespace: a.namespace) && $0.overlaps(startNs: a.startNs, endNs: a.endNs) }
                if !matching.isEmpty {
                    e.truePositives += 1
                } else {
                    e.falsePositives.append("\(a.namespace)/\(a.pod) \(a.kind) [\(a.startNs), \(a.endNs))")
                }
                e.byKind[a.kind, default: KindFigures()].reported += 1
                if matching.contains(where: { $0.kind == a.kind }) { e.byKind[a.kind, default: KindFigures()].reportedCorrect += 1 }
            }
            for l in labels {
                var figures = e.byKind[l.kind] ?? KindFigures()
                figures.labels += 1
                let overlapping = anomalies.filter { l.overlaps(startNs: $0.startNs, endNs: $0.endNs) }
                    .sorted { $0.startNs < $1.startNs }
                let rank = overlapping.compactMap { a in a.ranking.firstIndex { l.matches(pod: $0.pod, namespace: $0.namespace) } }.min()
                if let rank {
                    for k in 1...5 where rank < k { hits[k] += 1 }
                    for k in 1...5 where rank < k { figures.hits[k - 1] += 1 }
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
        for kind in e.byKind.keys { e.byKind[kind]!.finish() }
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
