import NetobsRecords

/// What a GET /v1/records asks for: the filter (query parameters named as `netobs tail`'s flags)
/// and the framing (NDJSON unless the client accepts only server-sent events).
///
/// Beyond the fixed filters, the clauses of Subscribe's `match` (PROTOCOL.md §6.11) are taken by
/// their names (`from_pod=shop/carts`, `to_ip=10.96.0.0/12`, `http_path=/api/*`; repeated: any of
/// them), `not.NAME=VALUE` negates one as `netobs tail --not` does, and `since`/`until` take an
/// RFC 3339 time or a duration before now.
struct StreamRequest: Equatable {
    enum Framing: Equatable { case ndjson, serverSentEvents }

    static let parameters: Set<String> = ["namespace", "pod", "service", "kind", "protocol", "status", "anomalies"]

    var filter = RecordFilter()
    var framing = Framing.ndjson

    struct Invalid: Error, CustomStringConvertible { let description: String }

    init(query: [(String, String)], accept: String?, nowNs: UInt64 = TimeFormat.nowNs()) throws(Invalid) {
        var include: [RecordCriterion.Field: [String]] = [:], exclude: [RecordCriterion.Field: [String]] = [:]
        for (name, value) in query {
            let negated = name.hasPrefix("not.")
            if let field = RecordCriterion.Field(rawValue: negated ? String(name.dropFirst(4)) : name),
               negated || !Self.parameters.contains(name) {
                if negated { exclude[field, default: []].append(value) } else { include[field, default: []].append(value) }
                continue
            }
            switch name {
            case "namespace": filter.namespace = value
            case "pod": filter.pod = value
            case "service": filter.service = value
            case "kind": filter.kind = value
            case "protocol": filter.protocol = value
            case "status": filter.status = value
            case "anomalies":
                switch value.lowercased() {
                case "", "1", "true", "yes": filter.anomaliesOnly = true
                case "0", "false", "no": filter.anomaliesOnly = false
                default: throw Invalid(description: "anomalies must be true or false, not \(value)")
                }
            case "since", "until":
                do {
                    let ns = try TimeBound.parse(value, nowNs: nowNs)
                    if name == "since" { filter.match.sinceNs = ns } else { filter.match.untilNs = ns }
                } catch {
                    throw Invalid(description: "\(name): \(error)")
                }
            default:
                let known = Self.parameters.union(["since", "until"]).union(RecordCriterion.Field.allCases.map(\.rawValue))
                throw Invalid(description: "unknown query parameter \(name) (known: \(known.sorted().joined(separator: ", ")); not.NAME negates one)")
            }
        }
        do {
            // Sorted: the same query gives the same filter, whatever the parameters' order.
            for (field, values) in include.sorted(by: { $0.key.rawValue < $1.key.rawValue }) {
                filter.match.include.append(try RecordCriterion(field, values))
            }
            for (field, values) in exclude.sorted(by: { $0.key.rawValue < $1.key.rawValue }) {
                filter.match.exclude.append(try RecordCriterion(field, values))
            }
        } catch {
            throw Invalid(description: error.description)
        }
        if let accept, Self.prefersEventStream(accept) { framing = .serverSentEvents }
    }

    /// True when text/event-stream is listed and NDJSON (or anything) is not listed before it.
    static func prefersEventStream(_ accept: String) -> Bool {
        for item in accept.split(separator: ",") {
            let type = (item.split(separator: ";").first ?? "").filter { $0 != " " && $0 != "\t" }.lowercased()
            if type == "text/event-stream" { return true }
            if type == "application/x-ndjson" || type == "application/json" || type == "*/*" { return false }
        }
        return false
    }
}
