/// A Prometheus histogram of durations: counts per bucket (not cumulative; the exposition sums
/// them), the sum in nanoseconds, and the count.
struct DurationHistogram: Sendable, Equatable {
    /// Upper bounds in seconds, from a fast in-cluster call to a slow timeout.
    static let boundsSeconds: [Double] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]
    static let boundsNs: [UInt64] = boundsSeconds.map { UInt64(($0 * 1e9).rounded()) }

    /// One per bound, then +Inf.
    var buckets = [UInt64](repeating: 0, count: boundsNs.count + 1)
    var sumNs: UInt64 = 0
    var count: UInt64 = 0

    mutating func observe(ns: UInt64) {
        let i = Self.boundsNs.firstIndex { ns <= $0 } ?? Self.boundsNs.count
        buckets[i] += 1
        sumNs &+= ns
        count += 1
    }

    /// `n` exchanges known only by their total time (an aggregate record): each at the average.
    mutating func observe(count n: UInt64, sumNs total: UInt64) {
        guard n > 0 else { return }
        let i = Self.boundsNs.firstIndex { total / n <= $0 } ?? Self.boundsNs.count
        buckets[i] += n
        sumNs &+= total
        count += n
    }
}
