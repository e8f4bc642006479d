/// A consumer's selection of records; every field empty (or false) selects everything. Fields
/// combine with AND.
///
/// - `namespace`: the record's source or destination namespace (`src_ns`, `dst_ns`, or the
///   `namespace` of a per-pod record such as an anomaly).
/// - `pod`: `src_pod` or `dst_pod` (or `pod`); "ns/name" also requires that pod's namespace.
/// - `service`: `dst_service`; "ns/name" also requires `dst_ns`.
/// - `kind`: the record kind exactly ("tcp", "http", "loss", ...).
/// - `protocol`: "tcp", "udp", "http", "dns": the record's own protocol or its transport, so
///   "tcp" selects http records too and "udp" selects dns records.
/// - `status`: an HTTP status ("503"), an HTTP class ("5xx"), or a DNS rcode ("NXDOMAIN",
///   any case); records without a status never match.
/// - `anomaliesOnly`: records of kind "anomaly" only.
/// - `match`: further clauses and time bounds (`netobs tail`'s from/to, IP, port, ..., `--not`,
///   `--since`/`--until`), ANDed with the fields above.
public struct RecordFilter: Sendable, Equatable {
    public var namespace: String
    public var pod: String
    public var service: String
    public var kind: String
    public var `protocol`: String
    public var status: String { didSet { statusPattern = StatusPattern(status) } }
    public var anomaliesOnly: Bool
    public var match: RecordMatch
    /// `status` parsed once, not per record.
    private var statusPattern: StatusPattern?

    public init(namespace: String = "", pod: String = "", service: String = "", kind: String = "",
                protocol: String = "", status: String = "", anomaliesOnly: Bool = false, match: RecordMatch = RecordMatch()) {
        self.namespace = namespace
        self.pod = pod
        self.service = service
        self.kind = kind
        self.protocol = `protocol`
        self.status = status
        self.anomaliesOnly = anomaliesOnly
        self.match = match
        statusPattern = StatusPattern(status)
    }

    /// True when every record passes: no need to read the records at all.
    public var selectsAll: Bool { self == RecordFilter() }

    /// The fields `matches` reads.
    public var fieldsRead: RecordView.FilterFields {
        var fields: RecordView.FilterFields = []
        if anomaliesOnly || !kind.isEmpty || !`protocol`.isEmpty { fields.insert(.kind) }
        if !namespace.isEmpty { fields.insert(.namespaces) }
        if !pod.isEmpty { fields.formUnion([.pods, .namespaces]) }
        if !service.isEmpty { fields.formUnion([.service, .namespaces]) }
        if statusPattern != nil { fields.insert(.status) }
        return fields.union(match.fieldsRead)
    }

    public func matches(_ r: RecordView) -> Bool {
        if anomaliesOnly && r.kind != "anomaly" { return false }
        if !kind.isEmpty && r.kind != kind { return false }
        if !`protocol`.isEmpty && !Self.protocolMatches(`protocol`, r) { return false }
        if !namespace.isEmpty && !Self.namespaceMatches(namespace, r) { return false }
        if !pod.isEmpty && !Self.podMatches(pod, r) { return false }
        if !service.isEmpty && !Self.serviceMatches(service, r) { return false }
        if let statusPattern, !statusPattern.matches(r) { return false }
        return match.matches(r)
    }

    // The single-field tests, shared with `RecordCriterion` (whose clauses can repeat and negate them).

    static func protocolMatches(_ p: String, _ r: RecordView) -> Bool {
        r.applicationProtocol == p || r.transportProtocol == p
    }

    static func namespaceMatches(_ ns: String, _ r: RecordView) -> Bool {
        r.srcNamespace == ns || r.dstNamespace == ns || r.namespace == ns
    }

    static func podMatches(_ pod: String, _ r: RecordView) -> Bool {
        guard let slash = pod.firstIndex(of: "/") else {
            return r.srcPod == pod || r.dstPod == pod || r.pod == pod
        }
        let ns = pod[..<slash], name = pod[pod.index(after: slash)...]
        return (r.srcNamespace == ns && r.srcPod == name) || (r.dstNamespace == ns && r.dstPod == name)
            || (r.namespace == ns && r.pod == name)
    }

    static func serviceMatches(_ service: String, _ r: RecordView) -> Bool {
        if r.dstService == service { return true }
        guard let slash = service.firstIndex(of: "/") else { return false }
        return r.dstNamespace == service[..<slash] && r.dstService == service[service.index(after: slash)...]
    }
}

/// A status filter: "503" (exact HTTP code), "5xx" (HTTP class) or a DNS rcode name.
struct StatusPattern: Sendable, Equatable {
    enum Pattern: Sendable, Equatable { case httpCode(UInt64), httpClass(UInt64), rcode(String) }
    let pattern: Pattern

    init?(_ text: String) {
        guard !text.isEmpty else { return nil }
        let lower = text.lowercased()
        if let code = UInt64(text) {
            pattern = .httpCode(code)
        } else if lower.count == 3, lower.hasSuffix("xx"), let digit = UInt64(lower.prefix(1)) {
            pattern = .httpClass(digit)
        } else {
            pattern = .rcode(text.uppercased())
        }
    }

    func matches(_ r: RecordView) -> Bool {
        switch pattern {
        case .httpCode(let code): r.httpStatusCode == code
        case .httpClass(let digit): r.httpStatusCode.map { $0 / 100 == digit } ?? false
        case .rcode(let name): r.dnsResponseCode == name  // the agent writes rcodes in upper case
        }
    }
}
