import NetobsRecords

/// What a GET /v1/records asks for: the filter (query parameters named as `netobs tail`'s flags)
/// and the framing (NDJSON unless the client accepts only server-sent events).
struct StreamRequest: Equatable {
    enum Framing: Equatable { case ndjson, serverSentEvents }

    static let parameters: Set<String> = ["namespace", "pod", "service", "kind", "protocol", "status", "anomalies"]

    var filter = RecordFilter()
    var framing = Framing.ndjson

    struct Invalid: Error, CustomStringConvertible { let description: String }

    init(query: [(String, String)], accept: String?) throws(Invalid) {
        for (name, value) in query {
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
            default:
                throw Invalid(description: "unknown query parameter \(name) (known: \(Self.parameters.sorted().joined(separator: ", ")))")
            }
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
