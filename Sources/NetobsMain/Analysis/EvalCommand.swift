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
            An anomaly counts when it overlaps a labelled fault on the same pod (a partition: either \
            of its two pods). AC@k: the labelled pod is in the top k of the ranking of an anomaly \
            overlapping the fault (the best such rank, so that with two faults at once each is judged \
            by the incident naming it). Delay: from the fault's start to the end of the interval that \
            raised the anomaly. Figures per fault kind too. When it detects (not --existing), the \
            baselines are scored on the same incidents: BARO-style multi-source ranking (median/IQR, \
            no graph, no tie-breaks) and N-sigma (mean/σ), their kinds from the centroids alone; and \
            every ranker once more given each fault's own start and end (ranking without detection).
            """)

    @OptionGroup var options: AnalysisDataOptions

    @Option(help: ArgumentHelp("Labels for a single run (default: RUN/labels.jsonl).", valueName: "file"))
    var labels: String?

    @Option(help: ArgumentHelp("Where to write the report (default: DIR/report.json).", valueName: "file"))
    var out: String?

    @Flag(help: "Score the anomalies.jsonl already in each run instead of detecting again.")
    var existing = false

    @Flag(help: "Skip the baselines (BARO-style, N-sigma) and the ranking at each fault's start.")
    var noBaselines = false

    @Option(help: ArgumentHelp("A note for the report (e.g. how the runs were chosen); repeatable.", valueName: "text"))
    var note: [String] = []

    func run() throws {
        let runs = try RunDirectory.find(options.data)
        if labels != nil && runs.count > 1 { throw ValidationError("--labels takes one run; --data has \(runs.count)") }
        let model = try RunDirectory.model(options.model)
        var scored: [(anomalies: [Anomaly], labels: [FaultLabel])] = []
        var dismissed = 0
        let baselines: [Localizer.Ranker] = existing || noBaselines ? [] : [.baro, .nsigma]
        var ranks: [(kind: String, ranks: [Localizer.Ranker: Int?])] = []
        for run in runs {
            let anomalies: [Anomaly]
            let labels = try run.loadLabels(override: self.labels)
            if existing {
                anomalies = try RunDirectory.readLines(run.anomalies, what: "anomaly") { try Anomaly.parse(line: $0) }
            } else {
                let records = try run.loadRecords()
                let detected = Replay.detect(records, model: model, baselines: baselines)
                RunDirectory.log("\(run.name): \(detected.stats.records) records over \(detected.stats.intervals) intervals, \(detected.anomalies.count) anomalies, \(detected.stats.dismissed) incidents dismissed as blips")
                anomalies = detected.anomalies
                dismissed += detected.stats.dismissed
                if !baselines.isEmpty {
                    ranks += Training.ranksAtFaultStart(Training.Run(name: run.name, records: records, labels: labels),
                                                        model: model, rankers: [.netobs] + baselines)
                }
            }
            scored.append((anomalies, labels))
        }
        var e = Evaluation.score(scored, intervalNs: model.intervalNs)
        if !existing { e.dismissed = dismissed }
        if !baselines.isEmpty {
            var others: [String: Evaluation] = [:]
            for ranker in baselines {
                others[ranker.rawValue] = Evaluation.score(scored.map { (Replay.alternatives($0.anomalies, ranker: ranker), $0.labels) },
                                                           intervalNs: model.intervalNs)
            }
            e.baselines = others
            var atStart: [String: Evaluation.RankingFigures] = [:]
            for ranker in [Localizer.Ranker.netobs] + baselines {
                atStart[ranker.rawValue] = Evaluation.RankingFigures(ranks: ranks.map { ($0.kind, $0.ranks[ranker] ?? nil) })
            }
            e.rankingAtFaultStart = atStart
        }
        if !note.isEmpty { e.notes = note }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        let target = out.map { URL(fileURLWithPath: $0) } ?? URL(fileURLWithPath: options.data).appendingPathComponent("report.json")
        try RunDirectory.write(String(decoding: try encoder.encode(e), as: UTF8.self) + "\n", to: target)
        print(String(format: "runs %d, labels %d, anomalies %d: precision %.3f recall %.3f F1 %.3f | AC@1 %.3f AC@3 %.3f Avg@5 %.3f | kind accuracy %.3f | median delay %.2f intervals",
                     e.runs, e.labels, e.anomalies, e.precision, e.recall, e.f1, e.acAt1, e.acAt3, e.avgAt5,
                     e.kindAccuracy, e.medianDelayIntervals) + (e.dismissed.map { " | \($0) alerts withdrawn as blips" } ?? ""))
        print(Self.table(e), terminator: "")
        RunDirectory.log("report -> \(target.path)")
    }

    /// Per kind, this analysis and the baselines side by side.
    static func table(_ e: Evaluation) -> String {
        var methods = [("netobs", e)]
        for (name, other) in (e.baselines ?? [:]).sorted(by: { $0.key < $1.key }) { methods.append((name, other)) }
        func row(_ cells: [String]) -> String {
            cells.enumerated().map { i, c in i < 2 ? c.padding(toLength: 10, withPad: " ", startingAt: 0)
                : String(repeating: " ", count: max(0, 7 - c.count)) + c }.joined()
        }
        func f(_ x: Double) -> String { String(format: "%.2f", x) }
        var lines = [row(["method", "kind", "faults", "P", "R", "AC@1", "AC@3", "Avg@5", "kind"])]
        let kinds = e.byKind.filter { $0.value.labels > 0 }.keys.sorted()
        for (name, m) in methods {
            lines.append(row([name, "all", String(m.labels), f(m.precision), f(m.recall), f(m.acAt1), f(m.acAt3), f(m.avgAt5),
                              f(m.kindAccuracy)]))
            for kind in kinds {
                let k = m.byKind[kind] ?? Evaluation.KindFigures()
                lines.append(row(["", kind, String(k.labels), f(k.precision), f(k.recall), f(k.acAt1), f(k.acAt3), f(k.avgAt5),
                                  f(k.kindAccuracy)]))
            }
        }
        if let atStart = e.rankingAtFaultStart {
            lines.append("ranking given each fault's start and end (no detection):")
            for (name, r) in atStart.sorted(by: { $0.key > $1.key }) {
                lines.append("  " + name.padding(toLength: 8, withPad: " ", startingAt: 0)
                    + " AC@1 \(f(r.acAt1)) AC@3 \(f(r.acAt3)) Avg@5 \(f(r.avgAt5))")
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
