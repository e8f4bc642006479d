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

    public enum Rollup: Sendable { case sum, quantile(Double) }

    public var rollup: Rollup {
        switch self {
        case .httpLatencyP50, .rtt: .quantile(0.5)
        case .httpLatencyP99, .turnLatencyP99, .dnsLatencyP99: .quantile(0.99)
        default: .sum
        }
    }

    /// Counts are tested as counts (Poisson); the rest as continuous values.
    public var isCount: Bool { if case .sum = rollup { true } else { false } }

    /// Fed to the online detectors (the others are evidence for localization only).
    public var triggers: Bool { self != .httpRequests && self != .dnsQueries }
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
