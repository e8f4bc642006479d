import Foundation
import NetobsRecords

/// The fields of one joined record (agent fields + controller's pod join) that the analysis
/// reads. Everything is optional: records from older agents or without a join still parse.
public struct FlowRecord: Sendable, Equatable {
    public var kind: String
    public var tsNs: UInt64
    /// `client` or `server`: which end of the exchange the reporting agent saw.
    public var role: String = ""
    /// The reporting socket's pod (src is always the local end) and its peer.
    public var srcPod: String?
    public var dstPod: String?
    public var httpURI: String?
    public var httpStatus: Int?
    public var httpDurationNs: Double?
    /// `*_aggregate` records fold this many exchanges.
    public var count: Double = 1
    /// An `http`/`dns` exemplar (the record says why it was sent): its exchange is also counted
    /// in an aggregate record.
    public var isExemplar = false
    public var aggregateP99Ns: Double?
    public var dnsDomain: String?
    public var dnsResponseCode: String?
    public var dnsDurationNs: Double?
    public var tcpRetransmit: Double = 0
    public var tcpDrop: Double = 0
    public var tcpDropReasons: [String] = []
    public var tcpRttNs: Double?
    public var tcpConnectFailed = false
    public var tcpError: String?
    public var turnLatencyP99Ns: Double?
    /// The reporting process (0 when unknown).
    public var pid: Int32 = 0

    public init(kind: String, tsNs: UInt64) {
        self.kind = kind
        self.tsNs = tsNs
    }
}

/// A pod named as `namespace/name` (or `name` with no namespace); `external`, empty and
/// missing peers are no pod.
public enum PodName {
    /// The join's labels for ends that are not pods: hosts ("node:NAME", e.g. the agent talking to
    /// the controller), services with several backends ("service:NAME"), and the outside world.
    /// They are no localization candidates: the analysis names pods.
    public static func isPod(_ name: String) -> Bool {
        !name.isEmpty && name != "external" && name != "unknown" && !name.hasPrefix("node:") && !name.hasPrefix("service:")
    }

    public static func join(_ name: String?, namespace: String?) -> String? {
        guard let name, isPod(name) else { return nil }
        guard let namespace, !namespace.isEmpty else { return name }
        return namespace + "/" + name
    }

    public static func split(_ pod: String) -> (name: String, namespace: String) {
        guard let slash = pod.firstIndex(of: "/") else { return (pod, "") }
        return (String(pod[pod.index(after: slash)...]), String(pod[..<slash]))
    }
}

extension FlowRecord {
    public enum ParseError: Error, Equatable, CustomStringConvertible {
        case notJSON
        case notAnObject
        case missing(String)

        public var description: String {
            switch self {
            case .notJSON: "not valid JSON"
            case .notAnObject: "not a JSON object"
            case .missing(let field): "missing field \(field)"
            }
        }
    }

    /// Parses one line of `records.jsonl`. Pods: `src_pod`/`src_ns` and `dst_pod`/`dst_ns`;
    /// a record with no join falls back to its IP addresses so that standalone agent output
    /// still makes series.
    public static func parse(line: Substring) throws(ParseError) -> FlowRecord {
        try parse(bytes: Array(line.utf8))
    }

    public static func parse(bytes: [UInt8]) throws(ParseError) -> FlowRecord {
        let object: [String: Any]
        do {
            object = try NativeJSON.object(bytes)
        } catch {
            throw error == .notAnObject ? .notAnObject : .notJSON
        }
        return try parse(object: object)
    }

    public static func parse(object o: [String: Any]) throws(ParseError) -> FlowRecord {
        guard let kind = o["kind"] as? String else { throw .missing("kind") }
        guard let ts = timestamp(o["ts_ns"]) else { throw .missing("ts_ns") }
        var r = FlowRecord(kind: kind, tsNs: ts)
        r.role = o["role"] as? String ?? ""
        let hasJoin = o["src_pod"] != nil || o["dst_pod"] != nil
        r.srcPod = hasJoin ? PodName.join(o["src_pod"] as? String, namespace: o["src_ns"] as? String)
            : PodName.join(o["src_ip"] as? String, namespace: nil)
        r.dstPod = hasJoin ? PodName.join(o["dst_pod"] as? String, namespace: o["dst_ns"] as? String)
            : PodName.join(o["dst_ip"] as? String, namespace: nil)
        r.httpURI = o["http_request_uri"] as? String
        r.httpStatus = number(o["http_status_code"]).map { Int($0) }
        r.httpDurationNs = number(o["http_duration"]) ?? number(o["http_duration_avg"])
        r.count = number(o["count"]) ?? 1
        r.isExemplar = o["exemplar"] is String
        r.aggregateP99Ns = number(o["http_duration_p99"]) ?? number(o["dns_duration_p99"])
        r.dnsDomain = o["dns_query_domain"] as? String
        r.dnsResponseCode = o["dns_response_code"] as? String
        r.dnsDurationNs = number(o["dns_duration"]) ?? number(o["dns_duration_avg"])
        r.tcpRetransmit = number(o["tcp_retransmit"]) ?? 0
        r.tcpDrop = number(o["tcp_drop"]) ?? 0
        r.tcpDropReasons = (o["tcp_drop_reasons"] as? [Any])?.compactMap { $0 as? String } ?? []
        r.tcpRttNs = number(o["tcp_rtt"])
        r.tcpConnectFailed = o["tcp_connect_failed"] as? Bool ?? false
        r.tcpError = o["tcp_error"] as? String
        r.turnLatencyP99Ns = number(o["req_latency_p99"])
        r.pid = number(o["pid"]).map { Int32(clamping: Int64($0)) } ?? 0
        if kind == "tcp_latency" { r.count = number(o["req_count"]) ?? 1 }
        return r
    }

    /// Unix ns need all 64 bits (a Double would round them).
    static func timestamp(_ value: Any?) -> UInt64? {
        switch value {
        case let v as Int: UInt64(max(0, v))
        case let v as UInt64: v
        case let v as NSNumber where !(v is Bool): v.uint64Value
        default: nil
        }
    }

    /// JSON numbers arrive as Int, Double or NSNumber depending on the platform.
    static func number(_ value: Any?) -> Double? {
        switch value {
        case let v as Int: Double(v)
        case let v as Double: v
        case let v as UInt64: Double(v)
        case let v as NSNumber where !(v is Bool): v.doubleValue
        default: nil
        }
    }
}
