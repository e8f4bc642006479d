import ArgumentParser
import Foundation
import NetobsAnalysis

/// `netobs eval`: detection against the labels: precision/recall/F1, AC@1/AC@3/Avg@5, kind
/// accuracy, detection delay; writes report.json.
struct EvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Score detection and localization against labels.jsonl (writes report.json).",
        discussion: """
            An anomaly counts when it overlaps a labelled fault on the same pod. AC@k: the labelled pod \
            is in the top k of the ranking of the first anomaly overlapping the fault. Delay: from the \
            fault's start to the end of the interval that raised the anomaly.
            """)

    @OptionGroup var options: AnalysisDataOptions

    @Option(help: ArgumentHelp("Labels for a single run (default: RUN/labels.jsonl).", valueName: "file"))
    var labels: String?

    @Option(help: ArgumentHelp("Where to write the report (default: DIR/report.json).", valueName: "file"))
    var out: String?

    @Flag(help: "Score the anomalies.jsonl already in each run instead of detecting again.")
    var existing = false

    func run() throws {
        let runs = try RunDirectory.find(options.data)
        if labels != nil && runs.count > 1 { throw ValidationError("--labels takes one run; --data has \(runs.count)") }
        let model = try RunDirectory.model(options.model)
        var scored: [(anomalies: [Anomaly], labels: [FaultLabel])] = []
        var dismissed = 0
        for run in runs {
            let anomalies: [Anomaly]
            if existing {
                anomalies = try RunDirectory.readLines(run.anomalies, what: "anomaly") { try Anomaly.parse(line: $0) }
            } else {
                let detected = try DetectCommand.detect(run, model: model)
                anomalies = detected.anomalies
                dismissed += detected.stats.dismissed
            }
            scored.append((anomalies, try run.loadLabels(override: labels)))
        }
        var e = Evaluation.score(scored, intervalNs: model.intervalNs)
        if !existing { e.dismissed = dismissed }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        let target = out.map { URL(fileURLWithPath: $0) } ?? URL(fileURLWithPath: options.data).appendingPathComponent("report.json")
        try RunDirectory.write(String(decoding: try encoder.encode(e), as: UTF8.self) + "\n", to: target)
        print(String(format: "runs %d, labels %d, anomalies %d: precision %.3f recall %.3f F1 %.3f | AC@1 %.3f AC@3 %.3f Avg@5 %.3f | kind accuracy %.3f | median delay %.2f intervals",
                     e.runs, e.labels, e.anomalies, e.precision, e.recall, e.f1, e.acAt1, e.acAt3, e.avgAt5,
                     e.kindAccuracy, e.medianDelayIntervals) + (e.dismissed.map { " | \($0) alerts withdrawn as blips" } ?? ""))
        RunDirectory.log("report -> \(target.path)")
    }
}
