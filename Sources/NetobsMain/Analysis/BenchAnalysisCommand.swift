import ArgumentParser
import Foundation
import NetobsAnalysis

/// `netobs bench-analysis` (hidden): series updates per second on one core (store append +
/// online detector per value) and resident memory per 100k series, as JSON.
struct BenchAnalysisCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-analysis", abstract: "Benchmark the analysis store and detectors.", shouldDisplay: false)

    @Option(help: "Series.") var series = 100_000
    @Option(help: "Intervals per round (after a warm-up that fills the baselines).") var intervals = 40
    @Option(help: "Rounds (the median is reported).") var rounds = 5
    @Option(help: ArgumentHelp("Write the JSON result here.", valueName: "file")) var out: String?

    func run() throws {
        let metrics: [Metric] = [.httpLatencyP99, .retransmits, .rtt, .httpErrors]
        let rssBefore = Self.residentBytes()
        var model = AnalysisModel()
        model.retention = .init(rawIntervals: 120, compactionFactor: 60, compactedBuckets: 60)
        var store = SeriesStore(retention: model.retention)
        var detectors: [SeriesDetector] = []
        detectors.reserveCapacity(series)
        for i in 0..<series {
            let metric = metrics[i % metrics.count]
            _ = store.id(for: .pod("bench/pod-\(i / metrics.count)", metric))
            detectors.append(SeriesDetector(metric: metric, config: model.detector))
        }
        // Noise values, precomputed so that the loop measures the analysis only.
        var noise: [Double] = []
        var x: UInt64 = 88172645463325252
        for _ in 0..<4096 {
            x ^= x << 13; x ^= x >> 7; x ^= x << 17
            noise.append(Double(x % 1000))
        }
        var interval = 0
        func pass() {
            for id in 0..<series {
                let v = 1_000_000 + noise[(id &+ interval) & 4095] * (id % 4 == 1 ? 0.001 : 100)
                store.append(id: id, interval: interval, value: Float(v))
                _ = detectors[id].update(v, interval: interval, config: model.detector)
            }
            interval += 1
        }
        for _ in 0..<(model.detector.warmup + 40) { pass() }
        let rssAfter = Self.residentBytes()

        var rates: [Double] = []
        for _ in 0..<rounds {
            let start = DispatchTime.now().uptimeNanoseconds
            for _ in 0..<intervals { pass() }
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            rates.append(Double(series * intervals) / seconds)
        }
        rates.sort()
        let median = rates[rates.count / 2]
        let perSeries = Double(rssAfter - rssBefore) / Double(series)
        let result: [String: Any] = [
            "series": series, "intervals_per_round": intervals, "rounds": rounds,
            "updates_per_second_median": Int(median), "updates_per_second_rounds": rates.map { Int($0) },
            "raw_intervals_retained": model.retention.rawIntervals, "detector_window": model.detector.window,
            "resident_bytes_per_series": Int(perSeries),
            "resident_mb_per_100k_series": (perSeries * 100_000 / 1_048_576 * 10).rounded() / 10,
            "store_estimate_mb_per_100k_series": (Double(store.approximateBytes) / Double(series) * 100_000 / 1_048_576 * 10).rounded() / 10,
            "note": "one thread; per update: ring append + robust baseline/SPOT or Poisson test + hysteresis",
        ]
        let json = try JSONSerialization.data(withJSONObject: result, options: [.prettyPrinted, .sortedKeys])
        let text = String(decoding: json, as: UTF8.self) + "\n"
        if let out { try RunDirectory.write(text, to: URL(fileURLWithPath: out)) }
        print(text, terminator: "")
    }

    /// VmRSS of this process, from /proc/self/statm.
    static func residentBytes() -> Int {
        guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
        let fields = text.split(separator: " ")
        return fields.count > 1 ? (Int(fields[1]) ?? 0) * Int(sysconf(Int32(_SC_PAGESIZE))) : 0
    }
}
