/// What a series measures, and how an interval's contributions roll up into one value.
public enum Metric: String, Sendable, Codable, CaseIterable, Hashable {
    case httpRequests = "http_requests"
    case httpErrors = "http_errors"
    case httpLatencyP50 = "http_latency_p50"
    case httpLatencyP99 = "http_latency_p99"
    case turnLatencyP99 = "turn_latency_p99"
    case retransmits
    case drops
    case rtt = "rtt_p50"
    case connErrors = "conn_errors"
    case dnsQueries = "dns_queries"
    case dnsFailures = "dns_failures"
    case dnsLatencyP99 = "dns_latency_p99"
    // Evidence for the fault's kind (never alarms by itself):
    /// Exchanges the pod answered, seen at the pod itself (a pod that is down, cut off or refusing
    /// answers fewer); on an edge, those of that client.
    case httpServed = "http_served"
    /// The pod's answer time as the pod itself saw it (first request byte in to first response
    /// byte out): the application's own time, without the network.
    case httpServerLatencyP50 = "http_server_latency_p50"
    /// The pod's answer time as its clients saw it: the application's time plus the network's.
    case httpClientLatencyP50 = "http_client_latency_p50"
    /// Connections to the pod refused or reset (an RST came back).
    case connRefused = "conn_refused"
    /// Connections to the pod that never got an answer (no SYN-ACK, no RST).
    case connTimeouts = "conn_timeouts"
    /// A process of the pod seen for the first time after the pod's first minute (a restart).
    case restarts

    public enum Rollup: Sendable { case sum, quantile(Double) }

    public var rollup: Rollup {
        switch self {
        case .httpLatencyP50, .rtt, .httpServerLatencyP50, .httpClientLatencyP50: .quantile(0.5)
        case .httpLatencyP99, .turnLatencyP99, .dnsLatencyP99: .quantile(0.99)
        default: .sum
        }
    }

    /// Counts are tested as counts (Poisson); the rest as continuous values.
    public var isCount: Bool { if case .sum = rollup { true } else { false } }

    /// Fed to the online detectors (the others are evidence for localization only).
    public var triggers: Bool {
        switch self {
        case .httpRequests, .dnsQueries, .httpServed, .httpServerLatencyP50, .httpClientLatencyP50, .connRefused,
             .connTimeouts, .restarts: false
        default: true
        }
    }
}

/// The entity a series belongs to.
public enum Scope: UInt8, Sendable, Codable, Hashable {
    /// `a` = pod.
    case pod
    /// `a` = the pod serving the URI, `b` = URI.
    case uri
    /// `a` = the querying pod, `b` = domain.
    case domain
    /// `a` < `b`: the two pods of a connection, either direction (network signals).
    case edge
}

public struct SeriesKey: Sendable, Hashable, Codable, CustomStringConvertible {
    public var scope: Scope
    public var a: String
    public var b: String
    public var metric: Metric

    public init(_ scope: Scope, _ a: String, _ b: String = "", _ metric: Metric) {
        self.scope = scope
        self.a = a
        self.b = b
        self.metric = metric
    }

    public static func pod(_ pod: String, _ metric: Metric) -> SeriesKey { SeriesKey(.pod, pod, "", metric) }

    public static func edge(_ x: String, _ y: String, _ metric: Metric) -> SeriesKey {
        x < y ? SeriesKey(.edge, x, y, metric) : SeriesKey(.edge, y, x, metric)
    }

    public var description: String {
        switch scope {
        case .pod: "\(a) \(metric.rawValue)"
        case .uri: "\(a) \(b) \(metric.rawValue)"
        case .domain: "\(a) dns \(b) \(metric.rawValue)"
        case .edge: "\(a)<->\(b) \(metric.rawValue)"
        }
    }
}
