/// Turns completed L7 events into `http` and `dns` records (common fields first), names the
/// kernel's L7 counters, and picks the DNS queries that waited too long.
public enum L7Records {
    /// Names in the order of `enum netobs_l7_counter` (bpf/netobs_layout.h), as loss reasons.
    public static let counterNames = [
        "http_unparsed", "http_response_unmatched", "http_pipeline_fifo_full", "http_conn_map_full",
        "dns_unparsed", "dns_pending_map_full", "l7_ringbuf_full", "tcp_latency_map_full",
    ]

    public static let dnsTimeoutCode = "TIMEOUT"

    /// The record of an answered exchange, stamped with the time of its response.
    public static func record(_ e: L7Event, context: RecordContext) -> Record {
        var r = context.flowRecord(kind: e.kind == .http ? "http" : "dns", monotonicNs: e.endNs,
                                   endpoints: e.endpoints, owner: e.owner)
        let duration = e.endNs >= e.startNs ? e.endNs - e.startNs : 0
        switch e.kind {
        case .http:
            r.set("http_request_method", .string(L7Names.httpMethod(e.httpMethod)))
            r.set("http_request_uri", .string(String(decoding: e.text, as: UTF8.self)))
            r.set("http_request_version", .string(L7Names.httpVersion(e.httpVersion)))
            r.set("http_status_code", .uint(UInt64(e.httpStatus)))
            r.set("http_duration", .uint(duration))
            if e.truncated { r.set("http_request_uri_truncated", .bool(true)) }
        case .dns:
            setDNSQuestion(&r, e)
            r.set("dns_response_code", .string(L7Names.dnsResponseCode(e.dnsResponseCode)))
            r.set("dns_duration", .uint(duration))
        }
        return r
    }

    /// The record of a query that got no answer: `dns_duration` is how long it was waited for.
    public static func timeoutRecord(_ e: L7Event, nowMonotonicNs now: UInt64, context: RecordContext) -> Record {
        var r = context.flowRecord(kind: "dns", monotonicNs: now, endpoints: e.endpoints, owner: e.owner)
        setDNSQuestion(&r, e)
        r.set("dns_response_code", .string(dnsTimeoutCode))
        r.set("dns_duration", .uint(now >= e.startNs ? now - e.startNs : 0))
        return r
    }

    /// Pending queries (map key, event) older than `timeoutNs`: the keys to take from the map.
    public static func timedOut(_ pending: [([UInt8], L7Event)], nowMonotonicNs now: UInt64,
                                timeoutNs: UInt64) -> [([UInt8], L7Event)] {
        pending.filter { now > $0.1.startNs && now - $0.1.startNs >= timeoutNs }
    }

    private static func setDNSQuestion(_ r: inout Record, _ e: L7Event) {
        r.set("dns_transaction_id", .uint(UInt64(e.dnsID)))
        r.set("dns_query_domain", .string(L7Names.dnsName(wire: e.text)))
        r.set("dns_query_type", .string(e.truncated ? "" : L7Names.dnsType(e.dnsQueryType)))
        if e.truncated { r.set("dns_query_domain_truncated", .bool(true)) }
    }
}
