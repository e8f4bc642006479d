/// k-of-n hysteresis: the alarm rises when at least `k` of the last `n` intervals were
/// anomalous, and falls after `clearAfter` normal intervals in a row. One spike is not an incident.
public struct Hysteresis: Sendable, Equatable {
    public let k: Int
    public let n: Int
    public let clearAfter: Int
    private var history: UInt32 = 0
    public private(set) var isOn = false

    public init(k: Int = 2, n: Int = 3, clearAfter: Int = 3) {
        self.n = min(32, max(1, n))
        self.k = min(self.n, max(1, k))
        self.clearAfter = min(32, max(1, clearAfter))
    }

    /// Feeds one interval's verdict; returns whether the alarm is on.
    @discardableResult
    public mutating func update(_ anomalous: Bool) -> Bool {
        history = (history << 1) | (anomalous ? 1 : 0)
        let window = history & ((1 << UInt32(n)) - 1)
        if window.nonzeroBitCount >= k {
            isOn = true
        } else if isOn, history & ((1 << UInt32(clearAfter)) - 1) == 0 {
            isOn = false
        }
        return isOn
    }
}
