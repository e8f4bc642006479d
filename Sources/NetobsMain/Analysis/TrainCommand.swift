import ArgumentParser
import Foundation
import NetobsAnalysis

/// `netobs train`: fits the fault-kind classifier and the detector thresholds from labelled runs.
struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Fit the fault-kind classifier and detector thresholds from labelled runs (writes a model file).")

    @Option(help: ArgumentHelp("A run directory (records.jsonl, labels.jsonl) or a folder of them.", valueName: "dir"))
    var data: String

    @Option(help: ArgumentHelp("Labels for a single run (default: RUN/labels.jsonl).", valueName: "file"))
    var labels: String?

    @Option(help: ArgumentHelp("Where to write the model.", valueName: "file"))
    var out = "model.json"

    func run() throws {
        let dirs = try RunDirectory.find(data)
        if labels != nil && dirs.count > 1 { throw ValidationError("--labels takes one run; --data has \(dirs.count)") }
        let runs = try dirs.map { Training.Run(name: $0.name, records: try $0.loadRecords(), labels: try $0.loadLabels(override: labels)) }
        let outcome = Training.fit(runs)
        for g in outcome.grid {
            RunDirectory.log(String(format: "z %.0f, ln alpha %.1f: F1 %.3f, AC@1 %.3f, kind %.3f, delay %.2f", g.zThreshold, g.logAlpha,
                                    g.evaluation.f1, g.evaluation.acAt1, g.evaluation.kindAccuracy, g.evaluation.medianDelayIntervals))
        }
        try RunDirectory.write(String(decoding: try outcome.model.encoded(), as: UTF8.self) + "\n", to: URL(fileURLWithPath: out))
        RunDirectory.log("\(outcome.examples) labelled faults in \(runs.count) run(s); chose z \(outcome.model.detector.zThreshold), ln alpha \(outcome.model.detector.logAlpha); model -> \(out)")
    }
}
