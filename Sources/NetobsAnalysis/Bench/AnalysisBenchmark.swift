import Dispatch

/// The analysis hot path under load: per value, a ring append in the store plus the online
/// detector (robust baseline / SPOT or Poisson test, hysteresis), over many series on one thread.
public enum AnalysisBenchmark {
    public struct Result: Sendable {
        public var series: Int
        public var updatesPerSecond: [Double]
        public var residentBytesPerSeries: Double
        public var storeEstimateBytesPerSeries: Double
        public var rawIntervals: Int

        public var median: Double { updatesPerSecond.sorted()[updatesPerSecond.count / 2] }
    }

    /// - Parameter residentBytes: the process's resident memory now (read by the caller).
    public static func run(series: Int, intervals: Int, rounds: Int, residentBytes: () -> Int) -> Result {
        let metrics: [Metric] = [.httpLatencyP99, .retransmits, .rtt, .httpErrors]
        let before = residentBytes()
        var model = AnalysisModel()
        model.retention = .init(rawIntervals: 120, compactionFactor: 60, compactedBuckets: 60)
        let config = model.detector
        var store = SeriesStore(retention: model.retention)
        var detectors: [SeriesDetector] = []
        detectors.reserveCapacity(series)
        for i in 0..<series {
            let metric = metrics[i % metrics.count]
            _ = store.id(for: .pod("bench/pod-\(i / metrics.count)", metric))
            detectors.append(SeriesDetector(metric: metric, config: config))
        }
        // Noise, precomputed so that the loop measures the analysis only.
        var noise: [Double] = []
        var x: UInt64 = 88172645463325252
        for _ in 0..<4096 {
            x ^= x << 13; x ^= x >> 7; x ^= x << 17
            noise.append(Double(x % 1000))
        }
        var interval = 0
        func pass() {
            for id in 0..<series {
                let v = 1_000_000 + noise[(id &+ interval &* 7) & 4095] * (id % 4 == 1 || id % 4 == 3 ? 0.002 : 100)
                store.append(id: id, interval: interval, value: Float(v))
                _ = detectors[id].update(v, interval: interval, config: config)
            }
            interval += 1
        }
        // Warm-up: fills the baselines and calibrates SPOT, so that the rounds measure steady state.
        for _ in 0..<(config.warmup + 48) { pass() }
        let after = residentBytes()
        var rates: [Double] = []
        for _ in 0..<max(1, rounds) {
            let start = DispatchTime.now().uptimeNanoseconds
            for _ in 0..<intervals { pass() }
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            rates.append(Double(series * intervals) / seconds)
        }
        return Result(series: series, updatesPerSecond: rates,
                      residentBytesPerSeries: Double(after - before) / Double(series),
                      storeEstimateBytesPerSeries: Double(store.approximateBytes) / Double(series),
                      rawIntervals: model.retention.rawIntervals)
    }
}
