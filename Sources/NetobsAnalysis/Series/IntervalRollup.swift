/// Accumulates one interval's contributions per series and rolls them up into one value each
/// (a sum for counts, a quantile of the samples otherwise).
struct IntervalRollup {
    struct Accumulator {
        var sum: Double = 0
        var samples: [(value: Float, weight: Float)] = []
    }

    private(set) var accumulators: [SeriesKey: Accumulator] = [:]
    /// Pods seen in the interval: their pod-level counts roll up to 0 when nothing was counted,
    /// so that an error or retransmit series has a baseline before its first event.
    private(set) var activePods: Set<String> = []

    var isEmpty: Bool { accumulators.isEmpty }

    mutating func add(_ key: SeriesKey, value: Double, weight: Double) {
        if key.scope == .pod { activePods.insert(key.a) }
        switch key.metric.rollup {
        case .sum: accumulators[key, default: Accumulator()].sum += value
        case .quantile: accumulators[key, default: Accumulator()].samples.append((Float(value), Float(weight)))
        }
    }

    static let podCounts = Metric.allCases.filter(\.isCount)

    /// The interval's value per series (series with no value this interval are absent).
    func values() -> [(SeriesKey, Double)] {
        var out: [(SeriesKey, Double)] = []
        out.reserveCapacity(accumulators.count + activePods.count * Self.podCounts.count)
        for (key, acc) in accumulators {
            switch key.metric.rollup {
            case .sum: out.append((key, acc.sum))
            case .quantile(let q): out.append((key, Self.weightedQuantile(acc.samples, q)))
            }
        }
        for pod in activePods {
            for metric in Self.podCounts where accumulators[.pod(pod, metric)] == nil {
                out.append((.pod(pod, metric), 0))
            }
        }
        return out
    }

    static func weightedQuantile(_ samples: [(value: Float, weight: Float)], _ q: Double) -> Double {
        guard !samples.isEmpty else { return .nan }
        let sorted = samples.sorted { $0.value < $1.value }
        let total = sorted.reduce(0) { $0 + Double($1.weight) }
        let rank = q * total
        var seen = 0.0
        for s in sorted {
            seen += Double(s.weight)
            if seen >= rank { return Double(s.value) }
        }
        return Double(sorted[sorted.count - 1].value)
    }
}
