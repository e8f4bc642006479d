import NetobsRecords
import NetobsWire

/// `netobs tail`'s filters in the order they were given, because `--not` negates the filter
/// flag right after it (as in `hubble observe`), which the parsed options alone cannot tell.
/// ArgumentParser has already checked the arguments; this only reads their order.
struct TailFilterArguments: Equatable {
    typealias Field = RecordCriterion.Field

    /// Flag → clause field. `--anomalies` takes no value.
    static let flags: [String: Field] = [
        "--namespace": .namespace, "--pod": .pod, "--service": .service, "--kind": .kind, "--protocol": .protocol,
        "--status": .status, "--anomalies": .anomaly,
        "--from-namespace": .fromNamespace, "--to-namespace": .toNamespace,
        "--from-pod": .fromPod, "--to-pod": .toPod, "--from-ip": .fromIP, "--to-ip": .toIP,
        "--port": .port, "--from-port": .fromPort, "--to-port": .toPort, "--node": .node,
        "--from-workload": .fromWorkload, "--to-workload": .toWorkload,
        "--http-method": .httpMethod, "--http-path": .httpPath,
    ]

    struct Misplaced: Error, CustomStringConvertible { let description: String }

    /// (field, value) in argument order.
    var include: [(Field, String)] = []
    var exclude: [(Field, String)] = []

    static func == (a: Self, b: Self) -> Bool {
        a.include.map { "\($0.0.rawValue)=\($0.1)" } == b.include.map { "\($0.0.rawValue)=\($0.1)" }
            && a.exclude.map { "\($0.0.rawValue)=\($0.1)" } == b.exclude.map { "\($0.0.rawValue)=\($0.1)" }
    }

    init(include: [(Field, String)] = [], exclude: [(Field, String)] = []) {
        self.include = include
        self.exclude = exclude
    }

    init(_ arguments: [String]) throws(Misplaced) {
        var negate = false
        var i = 0
        while i < arguments.count {
            let token = arguments[i]
            i += 1
            if token == "--" { break }
            if token == "--not" {
                guard !negate else { throw Misplaced(description: "--not twice in a row") }
                negate = true
                continue
            }
            let name = token.split(separator: "=", maxSplits: 1).first.map(String.init) ?? token
            guard let field = Self.flags[name] else {
                if negate { throw Misplaced(description: "--not must come right before a filter flag, not \(name)") }
                continue
            }
            var value = "true"
            if field != .anomaly {
                if let eq = token.firstIndex(of: "=") {
                    value = String(token[token.index(after: eq)...])
                } else if i < arguments.count {
                    value = arguments[i]
                    i += 1
                }
            }
            if negate { exclude.append((field, value)) } else { include.append((field, value)) }
            negate = false
        }
        if negate { throw Misplaced(description: "--not must come right before a filter flag") }
    }

    /// The Subscribe for the controller and the same selection for this side. A filter given once
    /// and not negated goes into the Subscribe's own field of that name (every controller applies
    /// those); the rest go into its `match`, which only `stream.match` controllers apply, so the
    /// consumer applies the whole filter again to what it gets.
    func subscription(replayLast: UInt32, sinceNs: UInt64, untilNs: UInt64) throws(RecordCriterion.Invalid) -> (Subscribe, RecordFilter) {
        var s = Subscribe(replayLast: replayLast, sinceNs: sinceNs, untilNs: untilNs)
        var rest: [(Field, String)] = []
        let legacy: [Field: WritableKeyPath<Subscribe, String>] = [.namespace: \.namespace, .pod: \.pod, .service: \.service,
                                                                    .kind: \.kind, .protocol: \.protocol, .status: \.status]
        for (field, value) in include {
            let count = include.lazy.filter { $0.0 == field }.count
            if count == 1, let path = legacy[field] {
                s[keyPath: path] = value
            } else if field == .anomaly {
                s.anomaliesOnly = true
            } else {
                rest.append((field, value))
            }
        }
        s.match = StreamMatch(include: Self.clauses(rest), exclude: Self.clauses(exclude))
        let match = try RecordMatch(strict: s.match, sinceNs: sinceNs, untilNs: untilNs)
        let filter = RecordFilter(namespace: s.namespace, pod: s.pod, service: s.service, kind: s.kind, protocol: s.protocol,
                                  status: s.status, anomaliesOnly: s.anomaliesOnly, match: match)
        return (s, filter)
    }

    /// One clause per field, its values in the order given (they OR).
    static func clauses(_ pairs: [(Field, String)]) -> [MatchClause] {
        var order: [Field] = []
        var values: [Field: [String]] = [:]
        for (field, value) in pairs {
            if values[field] == nil { order.append(field) }
            values[field, default: []].append(value)
        }
        return order.map { MatchClause($0.rawValue, values[$0]!) }
    }
}
