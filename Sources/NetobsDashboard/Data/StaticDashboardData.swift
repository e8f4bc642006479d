/// A `DashboardDataSource` over records held in memory: fed JSON lines (flow records and
/// `kind: "anomaly"` records, see `RecordLine`) or `Anomaly` values, it computes the map, the
/// series and the URI latency on each request. For tests, for files of records, and as the
/// controller's buffer of recent records.
public actor StaticDashboardData: DashboardDataSource {
    public struct Configuration: Sendable {
        /// The map shows calls of this window before the newest record.
        public var mapWindowNs: UInt64 = 60_000_000_000
        public var minBucketNs: UInt64 = 1_000_000_000
        public var maxBuckets = 150
        /// Oldest observations go past this many (counted in `IngestCounts.evicted`).
        public var maxObservations = 500_000
        public var thresholds = HealthThresholds()

        public init() {}
    }

    /// What happened to the lines fed in, for the operator's logs.
    public struct IngestCounts: Sendable, Equatable {
        public var records = 0
        public var anomalies = 0
        /// Valid records of kinds the dashboard does not chart (e.g. `loss`).
        public var ignored = 0
        /// Lines that are not JSON records, or anomaly records missing a field.
        public var rejected = 0
        public var evicted = 0
        public var lastRejection: String?
    }

    public enum IngestError: Error, CustomStringConvertible {
        case notARecord(String)
        case incompleteAnomaly(missing: String)

        public var description: String {
            switch self {
            case .notARecord(let why): "not a JSON record: \(why)"
            case .incompleteAnomaly(let field): "anomaly record without \(field)"
            }
        }
    }

    public let configuration: Configuration
    public private(set) var counts = IngestCounts()
    private var observations: [Observation] = []
    private var anomalyList: [Anomaly] = []

    public init(configuration: Configuration = Configuration()) {
        self.configuration = configuration
    }

    /// Feeds one JSON line; a bad one is counted and its reason kept, never thrown.
    public func ingest(jsonLine line: some StringProtocol) {
        do {
            try ingestOrThrow(line)
        } catch {
            counts.rejected += 1
            counts.lastRejection = "\(error)"
        }
    }

    /// Feeds newline-separated JSON records; blank lines are skipped.
    public func ingest(jsonLines text: String) {
        for line in text.split(whereSeparator: \.isNewline) where !line.allSatisfy(\.isWhitespace) {
            ingest(jsonLine: line)
        }
    }

    /// Feeds the lines of an anomalies.jsonl (DESIGN.md: `kind` there is the fault's kind).
    public func ingest(anomaliesJSONL text: String) {
        for line in text.split(whereSeparator: \.isNewline) where !line.allSatisfy(\.isWhitespace) {
            do {
                var r = try RecordLine.decode(line)
                (r.fault, r.kind) = (r.kind, "anomaly")
                add(try Self.anomaly(r))
            } catch {
                counts.rejected += 1
                counts.lastRejection = "\(error)"
            }
        }
    }

    /// Adds an anomaly, or updates the one already shown for the same pod, kind and start (the
    /// analysis reports an incident when it opens and again when it closes).
    public func add(_ anomaly: Anomaly) {
        if let i = anomalyList.firstIndex(where: { $0.pod == anomaly.pod && $0.kind == anomaly.kind && $0.startNs == anomaly.startNs }) {
            anomalyList[i] = anomaly
            return
        }
        anomalyList.append(anomaly)
        counts.anomalies += 1
    }

    /// Takes back the anomaly reported open at `startNs`: the analysis dismissed it as a blip
    /// (its pod may have changed since it opened, its start does not).
    public func withdraw(startNs: UInt64) {
        let before = anomalyList.count
        anomalyList.removeAll { $0.startNs == startNs }
        counts.anomalies -= before - anomalyList.count
    }

    private func ingestOrThrow(_ line: some StringProtocol) throws {
        let record: RecordLine
        do {
            record = try RecordLine.decode(line)
        } catch {
            throw IngestError.notARecord(Self.reason(error))
        }
        if record.kind == "anomaly" {
            if record.status == "dismissed", let start = record.startNs { return withdraw(startNs: start) }
            add(try Self.anomaly(record))
        } else if let o = Observation(record) {
            observations.append(o)
            counts.records += 1
            if observations.count > configuration.maxObservations {
                // Drop a tenth at once so eviction stays rare.
                let excess = observations.count - configuration.maxObservations * 9 / 10
                observations.removeFirst(excess)
                counts.evicted += excess
            }
        } else {
            counts.ignored += 1
        }
    }

    static func anomaly(_ r: RecordLine) throws -> Anomaly {
        guard let start = r.startNs else { throw IngestError.incompleteAnomaly(missing: "start_ns") }
        guard let end = r.endNs else { throw IngestError.incompleteAnomaly(missing: "end_ns") }
        guard let pod = r.pod, !pod.isEmpty else { throw IngestError.incompleteAnomaly(missing: "pod") }
        guard let fault = r.fault ?? r.faultKind, !fault.isEmpty else { throw IngestError.incompleteAnomaly(missing: "fault") }
        return Anomaly(pod: PodID(namespace: r.namespace ?? "", name: pod), startNs: start, endNs: max(start, end),
                       kind: fault, score: r.score ?? r.scoreMilli.map { Double($0) / 1000 } ?? 0, uri: r.uri, evidence: r.evidence?.lines(prefix: "") ?? [])
    }

    private static func reason(_ error: any Error) -> String {
        switch error {
        case DecodingError.keyNotFound(let key, _): "missing \(key.stringValue)"
        case DecodingError.typeMismatch(_, let c), DecodingError.valueNotFound(_, let c):
            "bad value at \(c.codingPath.map(\.stringValue).joined(separator: "."))"
        default: "invalid JSON"
        }
    }

    // MARK: DashboardDataSource

    public func serviceEdges() -> [ServiceEdge] {
        guard let newest = observations.map(\.tsNs).max() else { return [] }
        let from = newest >= configuration.mapWindowNs ? newest - configuration.mapWindowNs : 0
        return DashboardAggregation.edges(observations.filter { $0.tsNs >= from }, thresholds: configuration.thresholds)
    }

    public func pods() -> [PodSummary] {
        DashboardAggregation.summaries(observations, anomalies: anomalyList)
    }

    public func podSeries(_ pod: PodID) -> PodTimeSeries? {
        guard isKnown(pod) else { return nil }
        let g = grid()
        return PodTimeSeries(pod: pod, grid: g, series: DashboardAggregation.podSeries(pod, observations, grid: g),
                             anomalies: anomalies().filter { $0.pod == pod })
    }

    public func uriLatency(_ pod: PodID) -> PodURILatency? {
        guard isKnown(pod) else { return nil }
        let g = grid()
        return PodURILatency(pod: pod, grid: g, uris: DashboardAggregation.uriLatency(pod, observations, grid: g),
                             anomalies: anomalies().filter { $0.pod == pod })
    }

    public func anomalies() -> [Anomaly] {
        anomalyList.sorted { ($1.startNs, $0.pod) < ($0.startNs, $1.pod) }
    }

    private func isKnown(_ pod: PodID) -> Bool {
        anomalyList.contains { $0.pod == pod } || observations.contains { $0.involves(pod) }
    }

    /// One grid for every page, spanning the records and the anomalies, so charts line up.
    private func grid() -> SeriesGrid {
        let times = observations.map(\.tsNs) + anomalyList.flatMap { [$0.startNs, $0.endNs] }
        return DashboardAggregation.grid(firstNs: times.min() ?? 0, lastNs: times.max() ?? 0,
                                         minBucketNs: configuration.minBucketNs, maxBuckets: configuration.maxBuckets)
    }
}
