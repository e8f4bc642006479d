import NetobsTopology

/// What the dashboard shows, as plain values: the source of the data (the controller's live
/// state, or `StaticDashboardData` in tests) fills these; the pages only render them.

/// A pod, by namespace and name: the topology's key.
public typealias PodID = ObjectKey

/// The colour of an edge or a pod: green, amber, red.
public enum Health: String, Codable, Sendable, Comparable {
    case healthy, degraded, failing

    private var rank: Int {
        switch self {
        case .healthy: 0
        case .degraded: 1
        case .failing: 2
        }
    }

    public static func < (a: Health, b: Health) -> Bool { a.rank < b.rank }
}

/// Calls from one pod to another over the map's recent window.
public struct ServiceEdge: Codable, Sendable, Equatable {
    /// The calling pod (the client side of the connections).
    public var source: PodID
    /// The called pod (the server side).
    public var destination: PodID
    /// HTTP requests seen on the edge.
    public var requests: Int
    /// Share of those requests that failed (`Failures.http`: 5xx or no response), 0...1.
    public var errorRate: Double
    /// 99th percentile HTTP latency, when there were requests.
    public var p99LatencyNs: UInt64?
    public var retransmits: UInt64
    public var drops: UInt64
    /// Connections that ended with a socket error or never connected (refused, reset, timed out).
    public var connectionErrors: UInt64
    public var health: Health

    public init(source: PodID, destination: PodID, requests: Int, errorRate: Double, p99LatencyNs: UInt64?,
                retransmits: UInt64, drops: UInt64, connectionErrors: UInt64, health: Health) {
        self.source = source
        self.destination = destination
        self.requests = requests
        self.errorRate = errorRate
        self.p99LatencyNs = p99LatencyNs
        self.retransmits = retransmits
        self.drops = drops
        self.connectionErrors = connectionErrors
        self.health = health
    }
}

/// One row of the pods table.
public struct PodSummary: Codable, Sendable, Equatable {
    public var pod: PodID
    /// HTTP requests served by the pod (whole retained history).
    public var requests: Int
    public var httpErrors: Int
    public var retransmits: UInt64
    public var drops: UInt64
    /// Anomalies that name this pod.
    public var anomalies: Int

    public init(pod: PodID, requests: Int, httpErrors: Int, retransmits: UInt64, drops: UInt64, anomalies: Int) {
        self.pod = pod
        self.requests = requests
        self.httpErrors = httpErrors
        self.retransmits = retransmits
        self.drops = drops
        self.anomalies = anomalies
    }
}

/// A metric of the per-pod charts (the paper's Fig. 6), with its title and unit.
public enum PodMetric: String, Codable, Sendable, CaseIterable {
    case retransmits, rtt, drops, httpLatencyP50, httpLatencyP99, httpErrors, connectionErrors, dnsErrors

    public var title: String {
        switch self {
        case .retransmits: "TCP retransmits"
        case .rtt: "TCP RTT (mean)"
        case .drops: "TCP drops"
        case .httpLatencyP50: "HTTP latency p50"
        case .httpLatencyP99: "HTTP latency p99"
        case .httpErrors: "HTTP errors (5xx, no response)"
        case .connectionErrors: "Connection errors"
        case .dnsErrors: "DNS errors"
        }
    }

    public var unit: MetricUnit {
        switch self {
        case .rtt, .httpLatencyP50, .httpLatencyP99: .milliseconds
        default: .count
        }
    }
}

public enum MetricUnit: String, Codable, Sendable {
    /// Events per time bucket.
    case count
    case milliseconds

    public var symbol: String {
        switch self {
        case .count: "per bucket"
        case .milliseconds: "ms"
        }
    }
}

/// Values of one metric on the buckets of a `SeriesGrid`; nil where the bucket had no data.
public struct MetricSeries: Codable, Sendable, Equatable {
    public var metric: PodMetric
    public var values: [Double?]

    public init(metric: PodMetric, values: [Double?]) {
        self.metric = metric
        self.values = values
    }
}

/// Time buckets shared by the series of a page: bucket i starts at `startNs + i * bucketNs`.
public struct SeriesGrid: Codable, Sendable, Equatable {
    public var startNs: UInt64
    public var bucketNs: UInt64
    public var count: Int

    public init(startNs: UInt64, bucketNs: UInt64, count: Int) {
        self.startNs = startNs
        self.bucketNs = max(1, bucketNs)
        self.count = max(0, count)
    }

    /// Bucket midpoints, the x of each value.
    public var timestampsNs: [UInt64] { (0..<count).map { startNs + UInt64($0) * bucketNs + bucketNs / 2 } }
    public var endNs: UInt64 { startNs + UInt64(count) * bucketNs }

    public func index(of tsNs: UInt64) -> Int? {
        guard tsNs >= startNs, tsNs < endNs else { return nil }
        return Int((tsNs - startNs) / bucketNs)
    }
}

/// Everything the pod page charts: the metrics and the anomalies to shade.
public struct PodTimeSeries: Codable, Sendable, Equatable {
    public var pod: PodID
    public var grid: SeriesGrid
    public var series: [MetricSeries]
    public var anomalies: [Anomaly]

    public init(pod: PodID, grid: SeriesGrid, series: [MetricSeries], anomalies: [Anomaly]) {
        self.pod = pod
        self.grid = grid
        self.series = series
        self.anomalies = anomalies
    }
}

/// Latency of the requests for one URI served by a pod (the paper's Fig. 7).
public struct URILatencySeries: Codable, Sendable, Equatable {
    public var uri: String
    public var requests: Int
    public var errors: Int
    public var p50Ns: UInt64
    public var p99Ns: UInt64
    public var maxNs: UInt64
    /// p99 per bucket of the grid, in milliseconds.
    public var p99Ms: [Double?]

    public init(uri: String, requests: Int, errors: Int, p50Ns: UInt64, p99Ns: UInt64, maxNs: UInt64, p99Ms: [Double?]) {
        self.uri = uri
        self.requests = requests
        self.errors = errors
        self.p50Ns = p50Ns
        self.p99Ns = p99Ns
        self.maxNs = maxNs
        self.p99Ms = p99Ms
    }
}

public struct PodURILatency: Codable, Sendable, Equatable {
    public var pod: PodID
    public var grid: SeriesGrid
    /// The busiest URIs first.
    public var uris: [URILatencySeries]
    public var anomalies: [Anomaly]

    public init(pod: PodID, grid: SeriesGrid, uris: [URILatencySeries], anomalies: [Anomaly]) {
        self.pod = pod
        self.grid = grid
        self.uris = uris
        self.anomalies = anomalies
    }
}

/// A detected fault: which pod, when, what kind, how sure, and what shows it.
public struct Anomaly: Codable, Sendable, Equatable {
    public var pod: PodID
    public var startNs: UInt64
    public var endNs: UInt64
    /// The kind of fault: `loss`, `delay`, `reset`, `dns` (the scenario kinds), or another.
    public var kind: String
    public var score: Double
    public var uri: String?
    /// Human-readable lines: the flows, metrics and context behind the finding.
    public var evidence: [String]

    public init(pod: PodID, startNs: UInt64, endNs: UInt64, kind: String, score: Double, uri: String? = nil,
                evidence: [String] = []) {
        self.pod = pod
        self.startNs = startNs
        self.endNs = endNs
        self.kind = kind
        self.score = score
        self.uri = uri
        self.evidence = evidence
    }
}
