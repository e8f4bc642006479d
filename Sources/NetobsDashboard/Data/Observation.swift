import NetobsSchema

/// One record reduced to what the charts and the map add up, with its two ends named as
/// client and server (records carry the local socket as `src_*`; `role` says which side it is).
struct Observation: Sendable {
    enum Side: Sendable { case client, server }

    var tsNs: UInt64
    /// The side of the connection the record was taken on.
    var side: Side
    var client: PodID?
    var server: PodID?
    var retransmits: UInt64 = 0
    var drops: UInt64 = 0
    var rttNs: UInt64?
    var connectionErrors: UInt64 = 0
    var http: HTTPExchanges?
    var dnsFailures: UInt64 = 0

    func involves(_ pod: PodID) -> Bool { client == pod || server == pod }
}

/// HTTP exchanges of one record: one for `http`, `count` of them for `http_aggregate`.
struct HTTPExchanges: Sendable {
    var uri: String
    var status: Int
    var latency: [LatencySample]
    var count: UInt64 { latency.reduce(0) { $0 + $1.weight } }
    var isError: Bool { Failures.http(status: status) }
}

/// A latency value standing for `weight` exchanges.
struct LatencySample: Sendable, Equatable {
    var ns: UInt64
    var weight: UInt64
}

extension Observation {
    /// Record kinds that become observations; others (`loss`, ...) are counted as ignored.
    static let kinds: Set<String> = ["tcp", "udp", "http", "http_aggregate", "dns", "dns_aggregate"]

    /// Exemplars give none: their exchanges are counted by the aggregate records.
    init?(_ r: RecordLine) {
        guard Self.kinds.contains(r.kind), r.exemplar == nil, let ts = r.tsNs else { return nil }
        let local = Self.pod(r.srcPod, r.srcNs)
        let remote = Self.pod(r.dstPod, r.dstNs)
        let isServer = r.role == "server"
        self.init(tsNs: ts, side: isServer ? .server : .client,
                  client: isServer ? remote : local, server: isServer ? local : remote)
        switch r.kind {
        case "tcp":
            retransmits = r.tcpRetransmit ?? 0
            drops = r.tcpDrop ?? 0
            rttNs = r.tcpRtt.flatMap { $0 > 0 ? $0 : nil }
            connectionErrors = Failures.connection(error: r.tcpError, connectFailed: r.tcpConnectFailed == true) ? 1 : 0
        case "http":
            http = HTTPExchanges(uri: r.httpRequestUri ?? "", status: r.httpStatusCode ?? 0,
                                 latency: [LatencySample(ns: r.httpDuration ?? 0, weight: 1)])
        case "http_aggregate":
            http = HTTPExchanges(uri: r.httpRequestUri ?? "", status: r.httpStatusCode ?? 0,
                                 latency: Self.samples(histogramLog2Us: r.httpDurationHistLog2Us,
                                                       count: r.count ?? 0, average: r.httpDurationAvg ?? 0))
        case "dns", "dns_aggregate":
            dnsFailures = Failures.dns(responseCode: r.dnsResponseCode ?? "") ? (r.kind == "dns" ? 1 : r.count ?? 1) : 0
        default:
            break
        }
    }

    private static func pod(_ name: String?, _ namespace: String?) -> PodID? {
        guard let name, !name.isEmpty else { return nil }
        return PodID(namespace: namespace ?? "", name: name)
    }

    /// An aggregate's exchanges as samples: each log2 bucket [2^b, 2^(b+1)) µs at its middle,
    /// or all at the average when the record has no histogram.
    static func samples(histogramLog2Us: [UInt64]?, count: UInt64, average: UInt64) -> [LatencySample] {
        guard let histogram = histogramLog2Us, histogram.contains(where: { $0 > 0 }) else {
            return count > 0 ? [LatencySample(ns: average, weight: count)] : []
        }
        return histogram.enumerated().compactMap { b, n in
            n > 0 ? LatencySample(ns: (UInt64(3) << UInt64(b)) * 1000 / 2, weight: n) : nil
        }
    }
}
