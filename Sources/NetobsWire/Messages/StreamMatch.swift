/// The filters of a Subscribe beyond its seven fixed fields, as `netobs tail` builds them:
/// clauses named by field ("from_pod", "port", "http_path", ...), each with the values it ORs.
/// A record passes when every `include` clause matches it and the `exclude` clauses do not all
/// match it (so `--not --from-pod a --not --port 53` drops only records from `a` on port 53, as
/// `hubble observe` does).
///
/// A server that meets a field name it does not know must only ever select more, never less:
/// it takes an unknown include clause as matching and ignores the whole exclude side. The
/// client filters again, so the result stays right.
public struct StreamMatch: Sendable, Hashable {
    public var include: [MatchClause]
    public var exclude: [MatchClause]

    public init(include: [MatchClause] = [], exclude: [MatchClause] = []) {
        self.include = include
        self.exclude = exclude
    }

    public var isEmpty: Bool { include.isEmpty && exclude.isEmpty }
}

/// One filter: a field name and the values any of which may match.
public struct MatchClause: Sendable, Hashable {
    public var field: String
    public var values: [String]

    public init(_ field: String, _ values: [String]) {
        self.field = field
        self.values = values
    }
}

extension ByteWriter {
    mutating func streamMatch(_ m: StreamMatch, _ field: String) throws(WireError) {
        for side in [m.include, m.exclude] {
            try list(side, limit: Limits.matchClauses, field) { clause, w throws(WireError) in
                try w.string(clause.field, limit: Limits.label, field: field + ".field")
                try w.list(clause.values, limit: Limits.matchValues, field + ".values") { v, w throws(WireError) in
                    try w.string(v, limit: Limits.name, field: field + ".value")
                }
                w.noTaggedFields()
            }
        }
        noTaggedFields()
    }
}

extension ByteReader {
    mutating func streamMatch(_ field: String) throws(WireError) -> StreamMatch {
        // Smallest clause: empty field name, no values, no tagged fields.
        func side(_ r: inout ByteReader) throws(WireError) -> [MatchClause] {
            try r.list(limit: Limits.matchClauses, minElementSize: 3, field) { r throws(WireError) in
                let name = try r.string(limit: Limits.label, field + ".field")
                let values = try r.list(limit: Limits.matchValues, minElementSize: 1, field + ".values") { r throws(WireError) in
                    try r.string(limit: Limits.name, field + ".value")
                }
                try r.taggedFields(field + ".clause_tagged")
                return MatchClause(name, values)
            }
        }
        let include = try side(&self)
        let exclude = try side(&self)
        try taggedFields(field + ".tagged")
        return StreamMatch(include: include, exclude: exclude)
    }
}
