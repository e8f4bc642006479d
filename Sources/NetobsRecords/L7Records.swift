/// Turns exemplars (exchanges the kernel sent whole) into `http` and `dns` records (common
/// fields first, then the contract's fields, then `exemplar`: why this one was sent), names the
/// kernel's L7 counters, and picks the DNS queries that waited too long.
public enum L7Records {
    /// Names in the order of `enum netobs_l7_counter` (bpf/netobs_l7_layout.h), as loss reasons.
    public static let counterNames = [
        "http_unparsed", "http_response_unmatched", "http_pipeline_fifo_full", "l7_socket_storage_full",
        "dns_unparsed", "dns_pending_map_full", "l7_ringbuf_full", "tcp_latency_map_full",
        "l7_aggregate_map_full", "l7_text_map_full", "udp_flow_map_full",
    ]

    public static let dnsTimeoutCode = "TIMEOUT"

    /// The record of an exchange, stamped with the time of its response; `text` is the URI or
    /// the query name in dotted form.
    public static func record(_ e: L7Event, text: String, context: RecordContext) -> Record {
        var r = context.flowRecord(kind: e.kind == .http ? "http" : "dns", monotonicNs: e.endNs,
                                   endpoints: e.endpoints, owner: e.owner)
        switch e.kind {
        case .http:
            r.set("http_request_method", .string(L7Names.httpMethod(e.httpMethod)))
            r.set("http_request_uri", .string(text))
            r.set("http_request_version", .string(L7Names.httpVersion(e.httpVersion)))
            r.set("http_status_code", .uint(UInt64(e.httpStatus)))
            r.set("http_duration", .uint(e.durationNs))
            if e.truncated { r.set("http_request_uri_truncated", .bool(true)) }
        case .dns:
            setDNSQuestion(&r, e, text: text)
            r.set("dns_response_code", .string(L7Names.dnsResponseCode(e.dnsResponseCode)))
            r.set("dns_duration", .uint(e.durationNs))
        }
        if e.reason != .none { r.set("exemplar", .string(e.reason.name)) }
        return r
    }

    /// The record of a query that got no answer: `dns_duration` is how long it was waited for.
    public static func timeoutRecord(_ e: L7Event, text: String, nowMonotonicNs now: UInt64, context: RecordContext) -> Record {
        var r = context.flowRecord(kind: "dns", monotonicNs: now, endpoints: e.endpoints, owner: e.owner)
        setDNSQuestion(&r, e, text: text)
        r.set("dns_response_code", .string(dnsTimeoutCode))
        r.set("dns_duration", .uint(now >= e.startNs ? now - e.startNs : 0))
        r.set("exemplar", .string(L7Event.Reason.error.name))
        return r
    }

    /// Pending queries (map key, event) older than `timeoutNs`: the keys to take from the map.
    public static func timedOut(_ pending: [([UInt8], L7Event)], nowMonotonicNs now: UInt64,
                                timeoutNs: UInt64) -> [([UInt8], L7Event)] {
        pending.filter { now > $0.1.startNs && now - $0.1.startNs >= timeoutNs }
    }

    private static func setDNSQuestion(_ r: inout Record, _ e: L7Event, text: String) {
        r.set("dns_transaction_id", .uint(UInt64(e.dnsID)))
        r.set("dns_query_domain", .string(text))
        r.set("dns_query_type", .string(e.truncated ? "" : L7Names.dnsType(e.dnsQueryType)))
        if e.truncated { r.set("dns_query_domain_truncated", .bool(true)) }
    }
}
