import ArgumentParser
import Foundation
import NetobsAnalysis

/// `netobs detect`: replays recorded runs through the online analyzer and writes anomalies.jsonl.
struct DetectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "detect",
        abstract: "Detect and locate anomalies in recorded runs (writes anomalies.jsonl).",
        discussion: "Never reads labels. Each anomaly names the pod, the fault kind (delay, loss, reset, dns), the URI, a score and the evidence.")

    @OptionGroup var options: AnalysisDataOptions

    @Option(help: ArgumentHelp("Where to write anomalies (one run only; default: RUN/anomalies.jsonl).", valueName: "file"))
    var out: String?

    func run() throws {
        let runs = try RunDirectory.find(options.data)
        if out != nil && runs.count > 1 { throw ValidationError("--out takes one run; --data has \(runs.count)") }
        let model = try RunDirectory.model(options.model)
        for run in runs {
            let anomalies = try Self.detect(run, model: model).anomalies
            let target = out.map { URL(fileURLWithPath: $0) } ?? run.anomalies
            try RunDirectory.write(anomalies.map { $0.jsonLine() + "\n" }.joined(), to: target)
            RunDirectory.log("\(run.name): \(anomalies.count) anomalies -> \(target.path)")
        }
    }

    static func detect(_ run: RunDirectory, model: AnalysisModel) throws -> (anomalies: [Anomaly], stats: OnlineAnalyzer.Stats) {
        let records = try run.loadRecords()
        let (anomalies, stats) = Replay.detect(records, model: model)
        RunDirectory.log("\(run.name): \(stats.records) records over \(stats.intervals) intervals (\(stats.unused) of kinds with no series), \(stats.dismissed) incidents dismissed as blips")
        return (anomalies, stats)
    }
}
