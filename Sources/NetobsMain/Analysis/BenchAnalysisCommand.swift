import ArgumentParser
import Foundation
import NetobsAnalysis

/// `netobs bench-analysis` (hidden): series updates per second on one core and resident memory
/// per 100k series, as JSON (bench/analysis.sh runs it on one CPU).
struct BenchAnalysisCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-analysis", abstract: "Benchmark the analysis store and detectors.", shouldDisplay: false)

    @Option(help: "Series.") var series = 100_000
    @Option(help: "Intervals per round (after a warm-up that fills the baselines).") var intervals = 40
    @Option(help: "Rounds (the median is reported).") var rounds = 5
    @Option(help: ArgumentHelp("Write the JSON result here.", valueName: "file")) var out: String?

    func run() throws {
        let r = AnalysisBenchmark.run(series: series, intervals: intervals, rounds: rounds, residentBytes: Self.residentBytes)
        let text = Self.json(r, intervals: intervals)
        if let out { try RunDirectory.write(text, to: URL(fileURLWithPath: out)) }
        print(text, terminator: "")
    }

    static func json(_ r: AnalysisBenchmark.Result, intervals: Int) -> String {
        let mb = { (perSeries: Double) in (perSeries * 100_000 / 1_048_576 * 10).rounded() / 10 }
        let result: [String: Any] = [
            "series": r.series, "intervals_per_round": intervals, "rounds": r.updatesPerSecond.count,
            "updates_per_second_median": Int(r.median), "updates_per_second_rounds": r.updatesPerSecond.map { Int($0) },
            "raw_intervals_retained": r.rawIntervals,
            "resident_mb_per_100k_series": mb(r.residentBytesPerSeries),
            "store_estimate_mb_per_100k_series": mb(r.storeEstimateBytesPerSeries),
            "note": "one thread; per update: ring append + robust baseline with SPOT (continuous) or Poisson test (counts) + hysteresis",
        ]
        let data = (try? JSONSerialization.data(withJSONObject: result, options: [.prettyPrinted, .sortedKeys])) ?? Data()
        return String(decoding: data, as: UTF8.self) + "\n"
    }

    /// VmRSS of this process, from /proc/self/statm.
    static func residentBytes() -> Int {
        guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
        let fields = text.split(separator: " ")
        return fields.count > 1 ? (Int(fields[1]) ?? 0) * Int(sysconf(Int32(_SC_PAGESIZE))) : 0
    }
}
