import NetobsSchema

/// Which series a record moves, and by how much. `http`/`dns` records that are exemplars move
/// none: the `*_aggregate` records count every exchange.
///
/// Ownership (both agents of an exchange may report it; each view is attributed the same way,
/// so a duplicated exchange moves the same series twice and the baselines learn that):
/// - HTTP and request/response turns belong to the *server* pod: `src_pod` of a `role: server`
///   record, `dst_pod` of a client's. Latency seen by a client includes the network to the
///   server, so a slow or lossy server shows in its own series. The client→server pair is a
///   call edge of the call graph.
/// - DNS belongs to the *querying* pod (the resolver is rarely the culprit of a lookup fault).
/// - TCP counters (retransmits, drops, RTT) belong to both ends and to the edge between them:
///   a fault on one pod moves every edge it is on, which is what localization looks for.
/// - Connection errors (failed connects, resets, refusals) belong to the server end and the edge;
///   those answered by an RST (refused, reset) and those never answered (timed out) are also
///   counted apart, as evidence of the fault's kind.
/// - The server's own view of its exchanges also goes to evidence series of its own (answers
///   served, its answer time), the clients' view to another (answer time with the network), so
///   that a slow application (both move) and a slow network (only the clients' view moves) differ.
/// What failed is `Failures`' rule, the dashboard's too.
public enum Attribution {
    public struct Contribution: Sendable, Equatable {
        public var key: SeriesKey
        public var value: Double
        public var weight: Double
    }
    /// Errors of a connection an RST ended.
    public static let refusals: Set<String> = ["ECONNRESET", "ECONNREFUSED", "EPIPE", "ECONNABORTED"]

    /// Calls `emit` for every series value the record contributes; returns the call edge
    /// (client, server) of an HTTP or turn record with both ends known.
    @discardableResult
    public static func contributions(of r: FlowRecord, _ emit: (SeriesKey, Double, Double) -> Void) -> (String, String)? {
        // An exemplar's exchange is counted by its aggregate: counting both would double it.
        if r.isExemplar { return nil }
        let serverIsLocal = r.role == "server"
        switch r.kind {
        case "http", "http_aggregate":
            let server = serverIsLocal ? r.srcPod : r.dstPod
            let client = serverIsLocal ? r.dstPod : r.srcPod
            guard let server else { return nil }
            let status = r.httpStatus ?? 0
            let failed = Failures.http(status: status)
            emit(.pod(server, .httpRequests), r.count, 1)
            if failed { emit(.pod(server, .httpErrors), r.count, 1) }
            if serverIsLocal {
                emit(.pod(server, .httpServed), r.count, 1)
                if let client, client != server { emit(.edge(client, server, .httpServed), r.count, 1) }
                if let d = r.httpDurationNs, status != 0 { emit(.pod(server, .httpServerLatencyP50), d, r.count) }
            } else if let d = r.httpDurationNs, status != 0 {
                emit(.pod(server, .httpClientLatencyP50), d, r.count)
            }
            if let uri = r.httpURI {
                emit(SeriesKey(.uri, server, uri, .httpRequests), r.count, 1)
                if failed { emit(SeriesKey(.uri, server, uri, .httpErrors), r.count, 1) }
            }
            if let d = r.httpDurationNs, status != 0 {
                emit(.pod(server, .httpLatencyP50), d, r.count)
                emit(.pod(server, .httpLatencyP99), r.aggregateP99Ns ?? d, r.count)
                if let uri = r.httpURI { emit(SeriesKey(.uri, server, uri, .httpLatencyP99), r.aggregateP99Ns ?? d, r.count) }
            }
            return client.map { ($0, server) }
        case "tcp_latency":
            let server = serverIsLocal ? r.srcPod : r.dstPod
            let client = serverIsLocal ? r.dstPod : r.srcPod
            guard let server, let p99 = r.turnLatencyP99Ns else { return nil }
            emit(.pod(server, .turnLatencyP99), p99, r.count)
            return client.map { ($0, server) }
        case "dns", "dns_aggregate":
            guard let querier = serverIsLocal ? r.dstPod : r.srcPod else { return nil }
            let failed = Failures.dns(responseCode: r.dnsResponseCode ?? "")
            emit(.pod(querier, .dnsQueries), r.count, 1)
            if failed { emit(.pod(querier, .dnsFailures), r.count, 1) }
            if let domain = r.dnsDomain {
                emit(SeriesKey(.domain, querier, domain, .dnsQueries), r.count, 1)
                if failed { emit(SeriesKey(.domain, querier, domain, .dnsFailures), r.count, 1) }
            }
            if let d = r.dnsDurationNs {
                emit(.pod(querier, .dnsLatencyP99), d, r.count)
                if let domain = r.dnsDomain { emit(SeriesKey(.domain, querier, domain, .dnsLatencyP99), d, r.count) }
            }
            return nil
        case "tcp":
            let ends = [r.srcPod, r.dstPod].compactMap { $0 }
            let connError = Failures.connection(error: r.tcpError, connectFailed: r.tcpConnectFailed)
            for pod in ends {
                emit(.pod(pod, .retransmits), r.tcpRetransmit, 1)
                emit(.pod(pod, .drops), r.tcpDrop, 1)
                if let rtt = r.tcpRttNs, rtt > 0 { emit(.pod(pod, .rtt), rtt, 1) }
            }
            if connError, let server = serverIsLocal ? r.srcPod : r.dstPod {
                emit(.pod(server, .connErrors), 1, 1)
                emit(.pod(server, refusals.contains(r.tcpError ?? "") ? .connRefused : .connTimeouts), 1, 1)
            }
            if let a = r.srcPod, let b = r.dstPod, a != b {
                emit(.edge(a, b, .retransmits), r.tcpRetransmit, 1)
                emit(.edge(a, b, .drops), r.tcpDrop, 1)
                if let rtt = r.tcpRttNs, rtt > 0 { emit(.edge(a, b, .rtt), rtt, 1) }
                emit(.edge(a, b, .connErrors), connError ? 1 : 0, 1)
                if connError { emit(.edge(a, b, refusals.contains(r.tcpError ?? "") ? .connRefused : .connTimeouts), 1, 1) }
            }
            return nil
        default:
            return nil
        }
    }
}
