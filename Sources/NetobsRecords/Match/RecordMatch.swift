import NetobsWire

/// The clauses and time bounds of a filter beyond `RecordFilter`'s fixed fields, with the
/// semantics of `hubble observe`: values of one clause OR, clauses AND, and the negated clauses
/// (`--not` before each) together describe what to drop. A record passes when every `include`
/// clause matches it and not every `exclude` clause does. Time bounds read `ts_ns`; a record
/// without one passes them.
public struct RecordMatch: Sendable, Equatable {
    public var include: [RecordCriterion]
    public var exclude: [RecordCriterion]
    public var sinceNs: UInt64
    public var untilNs: UInt64

    public init(include: [RecordCriterion] = [], exclude: [RecordCriterion] = [], sinceNs: UInt64 = 0, untilNs: UInt64 = 0) {
        self.include = include
        self.exclude = exclude
        self.sinceNs = sinceNs
        self.untilNs = untilNs
    }

    public var isEmpty: Bool { include.isEmpty && exclude.isEmpty && sinceNs == 0 && untilNs == 0 }

    public func matches(_ r: RecordView) -> Bool {
        if r.tsNs > 0 {
            if sinceNs > 0 && r.tsNs < sinceNs { return false }
            if untilNs > 0 && r.tsNs > untilNs { return false }
        }
        for c in include where !c.matches(r) { return false }
        return exclude.isEmpty || !exclude.allSatisfy { $0.matches(r) }
    }

    public var fieldsRead: RecordView.FilterFields {
        var fields: RecordView.FilterFields = sinceNs > 0 || untilNs > 0 ? .time : []
        for c in include + exclude { fields.formUnion(c.fieldsRead) }
        return fields
    }

    /// As a Subscribe carries it.
    public var wire: StreamMatch {
        StreamMatch(include: include.map { MatchClause($0.field.rawValue, $0.values) },
                    exclude: exclude.map { MatchClause($0.field.rawValue, $0.values) })
    }

    /// What a client asked for: an unknown field or a bad value is an error, with its reason.
    public init(strict m: StreamMatch, sinceNs: UInt64 = 0, untilNs: UInt64 = 0) throws(RecordCriterion.Invalid) {
        func compile(_ clauses: [MatchClause]) throws(RecordCriterion.Invalid) -> [RecordCriterion] {
            var out: [RecordCriterion] = []
            for c in clauses {
                guard let field = RecordCriterion.Field(rawValue: c.field) else {
                    throw RecordCriterion.Invalid(description: "unknown filter \"\(c.field)\"")
                }
                out.append(try RecordCriterion(field, c.values))
            }
            return out
        }
        self.init(include: try compile(m.include), exclude: try compile(m.exclude), sinceNs: sinceNs, untilNs: untilNs)
    }

    /// What a server received: a clause it cannot use (a newer client's field, a bad value) may
    /// only widen the selection. An unusable include clause is dropped (it matches everything);
    /// an unusable exclude clause drops the whole exclude side (excluding less than asked).
    public init(lenient m: StreamMatch, sinceNs: UInt64 = 0, untilNs: UInt64 = 0) {
        func compile(_ c: MatchClause) -> RecordCriterion? {
            RecordCriterion.Field(rawValue: c.field).flatMap { try? RecordCriterion($0, c.values) }
        }
        let include = m.include.compactMap(compile)
        let exclude = m.exclude.map(compile)
        self.init(include: include, exclude: exclude.contains { $0 == nil } ? [] : exclude.compactMap { $0 },
                  sinceNs: sinceNs, untilNs: untilNs)
    }
}
