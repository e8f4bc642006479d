/// `http_aggregate` and `dns_aggregate` records from one interval's deltas: one per key, with
/// `count`, `{http,dns}_duration_{sum,avg,max,p50,p99}` and `{http,dns}_duration_hist_log2_us`,
/// and the common flow fields (`src_ip`, `dst_ip`, the server's port as `src_port` on the
/// server side or `dst_port` on the client side, `ip_version`, `netns`, `role`, `cgroup_id`).
///
/// Past `maxTexts` distinct URIs (or names) in one interval, the least used become `<other>`
/// (their keys merged), counted as `l7_uri_overflow`: the busiest keep their names.
public struct L7AggregateRecords: Sendable {
    public static let other = "<other>"

    /// Distinct URIs, and distinct DNS names, per interval.
    public var maxTexts: Int
    /// Exchanges shown under `<other>` since start.
    public private(set) var overflowTotal: UInt64 = 0

    public init(maxTexts: Int) {
        self.maxTexts = max(0, maxTexts)
    }

    /// The text of a key's id: what records show, and whether it was cut.
    public typealias TextLookup = (L7AggregateKey) -> (text: String, truncated: Bool)

    public mutating func records(_ deltas: [(L7AggregateKey, L7AggregateCounts)], texts: TextLookup,
                                 nowMonotonicNs now: UInt64, context: RecordContext) -> [Record] {
        let kept = keptTexts(deltas)
        var merged: [L7AggregateKey: L7AggregateCounts] = [:]
        var order: [L7AggregateKey] = []
        for (key, counts) in deltas {
            var k = key
            if !kept.contains(TextRef(kind: key.kind, id: key.textID)) {
                k.textID = 0 // <other>
                overflowTotal += counts.count
            }
            if merged[k] == nil {
                order.append(k)
                merged[k] = counts
            } else {
                merged[k]!.add(counts)
            }
        }
        return order.map { key in
            let shown = key.textID == 0 && !kept.contains(TextRef(kind: key.kind, id: 0)) ? (Self.other, false) : texts(key)
            return Self.record(key, merged[key]!, text: shown.0, truncated: shown.1, nowMonotonicNs: now, context: context)
        }
    }

    /// The exchanges the kernel could not give a key (its map was full), as one record per kind
    /// with no flow fields and `<other>` as the URI or name.
    public static func overflowRecord(kind: L7Event.Kind, _ counts: L7AggregateCounts, nowMonotonicNs now: UInt64,
                                      context: RecordContext) -> Record {
        let prefix = kind == .http ? "http" : "dns"
        var r = Record(kind: prefix + "_aggregate")
        r.set("ts_ns", .uint(context.unixNs(monotonic: now)))
        r.set("node", .string(context.node))
        r.set(kind == .http ? "http_request_uri" : "dns_query_domain", .string(other))
        setCounts(&r, prefix: prefix, counts)
        return r
    }

    private struct TextRef: Hashable {
        var kind: L7Event.Kind
        var id: UInt64
    }

    /// Per kind, the `maxTexts` texts with the most exchanges this interval.
    private func keptTexts(_ deltas: [(L7AggregateKey, L7AggregateCounts)]) -> Set<TextRef> {
        var totals: [TextRef: UInt64] = [:]
        for (key, counts) in deltas { totals[TextRef(kind: key.kind, id: key.textID), default: 0] += counts.count }
        var kept = Set<TextRef>()
        for kind in [L7Event.Kind.http, .dns] {
            let ranked = totals.filter { $0.key.kind == kind }.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key.id < $1.key.id }
            kept.formUnion(ranked.prefix(maxTexts).map(\.key))
        }
        return kept
    }

    static func record(_ key: L7AggregateKey, _ counts: L7AggregateCounts, text: String, truncated: Bool,
                       nowMonotonicNs now: UInt64, context: RecordContext) -> Record {
        let prefix = key.kind == .http ? "http" : "dns"
        var r = Record(kind: prefix + "_aggregate")
        r.set("ts_ns", .uint(context.unixNs(monotonic: now)))
        r.set("node", .string(context.node))
        r.set("cgroup_id", .uint(key.cgroupID))
        if key.netns != 0 { r.set("netns", .uint(UInt64(key.netns))) }
        let local = IPAddress.format(key.localAddr, ipVersion: key.ipVersion)
        let remote = IPAddress.format(key.remoteAddr, ipVersion: key.ipVersion)
        r.set("ip_version", .uint(UInt64(local.ipVersion)))
        r.set("src_ip", .string(local.text))
        if key.role == 2 { r.set("src_port", .uint(UInt64(key.serverPort))) }
        r.set("dst_ip", .string(remote.text))
        if key.role != 2 { r.set("dst_port", .uint(UInt64(key.serverPort))) }
        r.set("role", .string(KernelNames.role(key.role)))
        switch key.kind {
        case .http:
            r.set("http_request_method", .string(L7Names.httpMethod(UInt8(truncatingIfNeeded: key.code))))
            r.set("http_request_uri", .string(text))
            if truncated { r.set("http_request_uri_truncated", .bool(true)) }
            r.set("http_request_version", .string(L7Names.httpVersion(key.httpVersion)))
            r.set("http_status_code", .uint(UInt64(key.result)))
        case .dns:
            r.set("dns_query_domain", .string(text))
            if truncated { r.set("dns_query_domain_truncated", .bool(true)) }
            r.set("dns_query_type", .string(truncated ? "" : L7Names.dnsType(key.code)))
            r.set("dns_response_code", .string(key.result == L7AggregateKey.dnsTimeout
                ? L7Records.dnsTimeoutCode : L7Names.dnsResponseCode(UInt8(truncatingIfNeeded: key.result))))
        }
        setCounts(&r, prefix: prefix, counts)
        return r
    }

    private static func setCounts(_ r: inout Record, prefix: String, _ a: L7AggregateCounts) {
        let maxNs = a.knownMaxNs
        r.set("count", .uint(a.count))
        r.set(prefix + "_duration_sum", .uint(a.sumNs))
        r.set(prefix + "_duration_avg", .uint(a.count > 0 ? a.sumNs / a.count : 0))
        r.set(prefix + "_duration_max", .uint(maxNs))
        r.set(prefix + "_duration_p50", .uint(LatencyHistogram.quantile(0.5, histogram: a.histogram, maxNs: maxNs)))
        r.set(prefix + "_duration_p99", .uint(LatencyHistogram.quantile(0.99, histogram: a.histogram, maxNs: maxNs)))
        // Log2 buckets of microseconds (bucket b: [2^b, 2^(b+1)) µs), trailing zeros cut.
        let used = (a.histogram.lastIndex { $0 > 0 } ?? -1) + 1
        r.set(prefix + "_duration_hist_log2_us", .array(a.histogram.prefix(used).map { .uint($0) }))
    }
}
