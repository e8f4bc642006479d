import Foundation
import NetobsRecords

/// One detected incident: the located pod, the fault kind, when, how sure, and why.
/// As a line of `anomalies.jsonl` (the scenario contract: start_ns, end_ns, pod, namespace,
/// kind, score, uri, evidence) and as a `kind: "anomaly"` record of the consumer stream.
public struct Anomaly: Sendable, Codable, Equatable {
    public struct RankedPod: Sendable, Codable, Equatable {
        public var pod: String
        public var namespace: String
        public var score: Double
    }

    public struct Evidence: Sendable, Codable, Equatable {
        /// Series of the pod that moved, "metric z=…", strongest first.
        public var series: [String]
        /// Connections whose network series moved: "a<->b metric z=…".
        public var flows: [String]
        public var dropReasons: [String: Double]
        public var uris: [String]
        public var domains: [String]
        /// Series whose detectors raised the alarm.
        public var alarms: [String]
        public var features: [Double]

        enum CodingKeys: String, CodingKey {
            case series, flows, uris, domains, alarms, features
            case dropReasons = "drop_reasons"
        }
    }

    public var startNs: UInt64
    public var endNs: UInt64
    /// When the detector confirmed the incident (end of the interval that raised it).
    public var detectedNs: UInt64
    public var pod: String
    public var namespace: String
    public var kind: String
    public var score: Double
    public var uri: String?
    /// `open` when raised, `closed` when the alarms stopped, `dismissed` instead when its pods
    /// were anomalous in too few intervals to confirm it (a blip).
    public var status: String
    public var ranking: [RankedPod]
    public var evidence: Evidence
    /// The baselines' answers for the same incident (by ranker name; not written to anomalies.jsonl).
    public var alternatives: [String: Anomaly] = [:]

    public init(startNs: UInt64, endNs: UInt64, detectedNs: UInt64, pod: String, namespace: String, kind: String,
                score: Double, uri: String?, status: String, ranking: [RankedPod], evidence: Evidence,
                alternatives: [String: Anomaly] = [:]) {
        self.startNs = startNs
        self.endNs = endNs
        self.detectedNs = detectedNs
        self.pod = pod
        self.namespace = namespace
        self.kind = kind
        self.score = score
        self.uri = uri
        self.status = status
        self.ranking = ranking
        self.evidence = evidence
        self.alternatives = alternatives
    }

    enum CodingKeys: String, CodingKey {
        case pod, namespace, kind, score, uri, status, ranking, evidence
        case startNs = "start_ns", endNs = "end_ns", detectedNs = "detected_ns"
    }

    /// One line of anomalies.jsonl.
    public func jsonLine() -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? encoder.encode(self)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }

    public static func parse(line: Substring) throws -> Anomaly {
        try JSONDecoder().decode(Anomaly.self, from: Data(line.utf8))
    }

    /// The consumer-stream record: `kind: anomaly`, the fault kind in `fault_kind`, the score
    /// in thousandths (records carry integers), evidence as strings.
    public var record: Record {
        var r = Record(kind: "anomaly")
        r.set("ts_ns", .uint(detectedNs))
        r.set("start_ns", .uint(startNs))
        r.set("end_ns", .uint(endNs))
        r.set("status", .string(status))
        r.set("pod", .string(pod))
        r.set("namespace", .string(namespace))
        r.set("fault_kind", .string(kind))
        r.set("score_milli", .uint(UInt64(max(0, min(score * 1000, 1e15)))))
        if let uri { r.set("uri", .string(uri)) }
        r.set("ranking", .array(ranking.map { .string($0.namespace.isEmpty ? $0.pod : $0.namespace + "/" + $0.pod) }))
        r.set("evidence", .array((evidence.series + evidence.flows + evidence.uris + evidence.domains).map { .string($0) }))
        if !evidence.dropReasons.isEmpty {
            r.set("drop_reasons", .array(evidence.dropReasons.keys.sorted().map { .string($0) }))
        }
        return r
    }
}
