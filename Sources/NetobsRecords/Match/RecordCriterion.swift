/// One filter clause, compiled: a field and the values any one of which selects a record
/// (`--from-pod a --from-pod b`: from a OR from b). The values are kept as given, for the wire
/// and for equality; what matching needs (CIDRs, globs, ports) is parsed once, here.
public struct RecordCriterion: Sendable, Equatable, CustomStringConvertible {
    /// The clause names of PROTOCOL.md §6.11 (Subscribe's `match`).
    public enum Field: String, CaseIterable, Sendable {
        case namespace, pod, service, kind, `protocol`, status, anomaly
        case fromNamespace = "from_namespace", toNamespace = "to_namespace"
        case fromPod = "from_pod", toPod = "to_pod"
        case fromIP = "from_ip", toIP = "to_ip"
        case port, fromPort = "from_port", toPort = "to_port"
        case node
        case fromWorkload = "from_workload", toWorkload = "to_workload"
        case httpMethod = "http_method", httpPath = "http_path"
    }

    public struct Invalid: Error, Equatable, CustomStringConvertible {
        public let description: String
    }

    public let field: Field
    public let values: [String]
    private let patterns: [Pattern]

    private enum Pattern: Sendable {
        case text(String)
        case status(StatusPattern)
        case podPrefix(namespace: Substring?, prefix: Substring)
        case ip(IPPrefix)
        case port(UInt64)
        case workload(WorkloadPattern)
        case method(String)
        case path(PathPattern)
    }

    public init(_ field: Field, _ values: [String]) throws(Invalid) {
        guard !values.isEmpty else { throw Invalid(description: "\(field.rawValue): no value") }
        self.field = field
        self.values = values
        var patterns: [Pattern] = []
        for value in values { patterns.append(try Self.compile(field, value)) }
        self.patterns = patterns
    }

    public static func == (a: RecordCriterion, b: RecordCriterion) -> Bool { a.field == b.field && a.values == b.values }

    public var description: String { "\(field.rawValue)=\(values.joined(separator: ","))" }

    private static func compile(_ field: Field, _ value: String) throws(Invalid) -> Pattern {
        func invalid(_ why: String) -> Invalid { Invalid(description: "\(field.rawValue) \"\(value)\": \(why)") }
        switch field {
        case .status:
            guard let p = StatusPattern(value) else { throw invalid("empty") }
            return .status(p)
        case .fromPod, .toPod:
            guard let slash = value.firstIndex(of: "/") else { return .podPrefix(namespace: nil, prefix: Substring(value)) }
            return .podPrefix(namespace: value[..<slash], prefix: value[value.index(after: slash)...])
        case .fromIP, .toIP:
            guard let p = IPPrefix(value) else { throw invalid("not an IP address or CIDR") }
            return .ip(p)
        case .port, .fromPort, .toPort:
            guard let port = UInt64(value), port <= 65_535 else { throw invalid("not a port number") }
            return .port(port)
        case .fromWorkload, .toWorkload:
            guard let w = WorkloadPattern(value) else { throw invalid("expected NAME, KIND/NAME, NS/NAME or NS/KIND/NAME") }
            return .workload(w)
        case .httpMethod:
            return .method(value.uppercased())
        case .httpPath:
            guard let p = PathPattern(value) else { throw invalid("a path starts with / (a glob may start with *)") }
            return .path(p)
        default:
            return .text(value)
        }
    }

    /// The record fields `matches` reads.
    public var fieldsRead: RecordView.FilterFields {
        switch field {
        case .namespace, .fromNamespace, .toNamespace: .namespaces
        case .pod, .fromPod, .toPod: [.pods, .namespaces]
        case .service: [.service, .namespaces]
        case .kind, .protocol, .anomaly: .kind
        case .status: .status
        case .fromIP, .toIP, .port, .fromPort, .toPort: .addresses
        case .node: .node
        case .fromWorkload, .toWorkload: [.workloads, .namespaces]
        case .httpMethod, .httpPath: .http
        }
    }

    public func matches(_ r: RecordView) -> Bool {
        patterns.contains { matches($0, r) }
    }

    private func matches(_ p: Pattern, _ r: RecordView) -> Bool {
        switch (field, p) {
        case (.namespace, .text(let v)): RecordFilter.namespaceMatches(v, r)
        case (.pod, .text(let v)): RecordFilter.podMatches(v, r)
        case (.service, .text(let v)): RecordFilter.serviceMatches(v, r)
        case (.kind, .text(let v)): r.kind == v
        case (.protocol, .text(let v)): RecordFilter.protocolMatches(v, r)
        case (.anomaly, _): r.kind == "anomaly"
        case (.fromNamespace, .text(let v)): r.srcNamespace == v
        case (.toNamespace, .text(let v)): r.dstNamespace == v
        case (.node, .text(let v)): r.node == v
        case (_, .status(let s)): s.matches(r)
        case (.fromPod, .podPrefix(let ns, let prefix)): (ns.map { $0 == r.srcNamespace } ?? true) && r.srcPod.hasPrefix(prefix)
        case (.toPod, .podPrefix(let ns, let prefix)): (ns.map { $0 == r.dstNamespace } ?? true) && r.dstPod.hasPrefix(prefix)
        case (.fromIP, .ip(let prefix)): prefix.contains(r.srcIP)
        case (.toIP, .ip(let prefix)): prefix.contains(r.dstIP)
        case (.port, .port(let port)): r.srcPort == port || r.dstPort == port
        case (.fromPort, .port(let port)): r.srcPort == port
        case (.toPort, .port(let port)): r.dstPort == port
        case (.fromWorkload, .workload(let w)): w.matches(namespace: r.srcNamespace, workload: r.srcWorkload)
        case (.toWorkload, .workload(let w)): w.matches(namespace: r.dstNamespace, workload: r.dstWorkload)
        case (.httpMethod, .method(let m)): r.httpMethod.uppercased() == m
        case (.httpPath, .path(let p)): p.matches(uri: r.httpURI)
        default: false
        }
    }
}
