/// Bounds the exemplars (`http`/`dns` records) of one flush interval (`--l7-record-cap`): every
/// exchange is already in its aggregate, so past the cap an exemplar is only not shown, counted
/// as `l7_exemplars_over_cap`. Errors go first, then slow exchanges, then samples, each in the
/// order they came.
public struct L7ExemplarCap: Sendable {
    /// Exemplars per interval.
    public var cap: Int
    /// Exemplars left out since start.
    public private(set) var overCapTotal: UInt64 = 0

    public init(cap: Int) {
        self.cap = max(0, cap)
    }

    public var counterTotals: [String: UInt64] { ["l7_exemplars_over_cap": overCapTotal] }

    /// The items to record, most telling first.
    public mutating func select<T>(_ items: [T], reason: (T) -> L7Event.Reason) -> [T] {
        guard items.count > cap else { return items }
        overCapTotal += UInt64(items.count - cap)
        let ranked = items.enumerated().sorted { a, b in
            let (ra, rb) = (reason(a.element), reason(b.element))
            return ra != rb ? ra > rb : a.offset < b.offset
        }
        return ranked.prefix(cap).sorted { $0.offset < $1.offset }.map(\.element)
    }
}
