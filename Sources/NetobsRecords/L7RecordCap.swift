/// Bounds the per-exchange `http` and `dns` records of one flush interval: the first `cap`
/// exchanges become records; past the cap, exchanges fold into `http_aggregate` and
/// `dns_aggregate` records, one per (pod cgroup, role, method, URI, status) or (pod cgroup,
/// role, domain, type, rcode), with a count and a log2 latency histogram. Nothing is dropped:
/// the folded exchanges are counted (`l7_records_aggregated`) and so are the URIs or domains
/// replaced by `<other>` once an interval holds `maxKeys` distinct ones (`l7_uri_overflow`).
public struct L7RecordCap: Sendable {
    public static let other = "<other>"

    /// Per-exchange records per interval.
    public var cap: Int
    /// Distinct URIs (HTTP) or domains (DNS) in the aggregates of one interval.
    public var maxKeys: Int
    /// Exchanges folded into aggregates since start (a loss-style counter).
    public private(set) var aggregatedTotal: UInt64 = 0
    /// URIs and domains replaced by `<other>` since start.
    public private(set) var overflowTotal: UInt64 = 0

    public init(cap: Int, maxKeys: Int) {
        self.cap = max(0, cap)
        self.maxKeys = max(0, maxKeys)
    }

    /// The loss-style counters, by the names `loss` records carry.
    public var counterTotals: [String: UInt64] {
        ["l7_records_aggregated": aggregatedTotal, "l7_uri_overflow": overflowTotal]
    }

    private struct Key: Hashable {
        var kind: L7Event.Kind
        var cgroupID: UInt64
        var role: UInt8
        var text: String
        var code: UInt16 // HTTP method, DNS query type
        var result: UInt16 // HTTP status, DNS rcode
        var version: UInt8
    }

    private struct Aggregate {
        var count: UInt64 = 0
        var sumNs: UInt64 = 0
        var maxNs: UInt64 = 0
        var histogram = [UInt64](repeating: 0, count: 32)
    }

    /// Records of one interval's completed exchanges, in order, stamped `now` for aggregates.
    public mutating func records(_ events: [L7Event], nowMonotonicNs now: UInt64, context: RecordContext) -> [Record] {
        var records = events.prefix(cap).map { L7Records.record($0, context: context) }
        guard events.count > cap else { return records }
        var aggregates: [Key: Aggregate] = [:]
        var order: [Key] = []
        var texts = Set<String>()
        for e in events.dropFirst(cap) {
            var text = e.kind == .http ? String(decoding: e.text, as: UTF8.self) : L7Names.dnsName(wire: e.text)
            if !texts.contains(text) {
                if texts.count >= maxKeys {
                    text = Self.other
                    overflowTotal += 1
                } else {
                    texts.insert(text)
                }
            } 
            let key = Key(kind: e.kind, cgroupID: e.owner.cgroupID, role: e.endpoints.role, text: text,
                          code: e.kind == .http ? UInt16(e.httpMethod) : e.dnsQueryType,
                          result: e.kind == .http ? e.httpStatus : UInt16(e.dnsResponseCode),
                          version: e.kind == .http ? e.httpVersion : 0)
            let duration = e.endNs >= e.startNs ? e.endNs - e.startNs : 0
            if aggregates[key] == nil { order.append(key) }
            aggregates[key, default: Aggregate()].count += 1
            aggregates[key]!.sumNs += duration
            aggregates[key]!.maxNs = max(aggregates[key]!.maxNs, duration)
            aggregates[key]!.histogram[LatencyHistogram.bucket(ns: duration)] += 1
            aggregatedTotal += 1
        }
        for key in order {
            let a = aggregates[key]!
            let prefix = key.kind == .http ? "http" : "dns"
            var r = Record(kind: prefix + "_aggregate")
            r.set("ts_ns", .uint(context.unixNs(monotonic: now)))
            r.set("node", .string(context.node))
            r.set("cgroup_id", .uint(key.cgroupID))
            r.set("role", .string(KernelNames.role(key.role)))
            if key.kind == .http {
                r.set("http_request_method", .string(L7Names.httpMethod(UInt8(key.code))))
                r.set("http_request_uri", .string(key.text))
                r.set("http_request_version", .string(L7Names.httpVersion(key.version)))
                r.set("http_status_code", .uint(UInt64(key.result)))
            } else {
                r.set("dns_query_domain", .string(key.text))
                r.set("dns_query_type", .string(L7Names.dnsType(key.code)))
                r.set("dns_response_code", .string(L7Names.dnsResponseCode(UInt8(key.result))))
            }
            r.set("count", .uint(a.count))
            r.set(prefix + "_duration_sum", .uint(a.sumNs))
            r.set(prefix + "_duration_avg", .uint(a.sumNs / a.count))
            r.set(prefix + "_duration_max", .uint(a.maxNs))
            r.set(prefix + "_duration_p50", .uint(LatencyHistogram.quantile(0.5, histogram: a.histogram, maxNs: a.maxNs)))
            r.set(prefix + "_duration_p99", .uint(LatencyHistogram.quantile(0.99, histogram: a.histogram, maxNs: a.maxNs)))
            // Log2 buckets of microseconds (bucket b: [2^b, 2^(b+1)) µs), trailing zeros cut.
            let used = (a.histogram.lastIndex { $0 > 0 } ?? -1) + 1
            r.set(prefix + "_duration_hist_log2_us", .array(a.histogram.prefix(used).map { .uint($0) }))
            records.append(r)
        }
        return records
    }
}
