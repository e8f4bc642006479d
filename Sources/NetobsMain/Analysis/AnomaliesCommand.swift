import ArgumentParser
import Foundation
import NetobsAnalysis
import NetobsRecords

/// `netobs anomalies`: a table of the anomalies of recorded runs.
struct AnomaliesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "anomalies",
        abstract: "Print the anomalies of recorded runs as a table.",
        discussion: """
            Reads RUN/anomalies.jsonl when present, else detects (as `netobs detect`, without writing). \
            -o json (or jsonl) prints each anomaly as its anomalies.jsonl line with the run's name \
            added as "run", one per line.
            """)

    @OptionGroup var options: AnalysisDataOptions

    @Flag(help: "Detect again even when anomalies.jsonl exists.")
    var redetect = false

    @Option(name: [.short, .customLong("output")], help: "table, or json/jsonl: one JSON object per anomaly per line.")
    var output: ListingFormat = .table

    func run() throws {
        let model = try RunDirectory.model(options.model)
        for run in try RunDirectory.find(options.data) {
            let anomalies = !redetect && FileManager.default.fileExists(atPath: run.anomalies.path)
                ? try RunDirectory.readLines(run.anomalies, what: "anomaly") { try Anomaly.parse(line: $0) }
                : try DetectCommand.detect(run, model: model).anomalies
            if output.isJSON {
                for a in anomalies { print(AnomalyTable.json(a, run: run.name)) }
            } else {
                print("\(run.name): \(anomalies.count) anomalies")
                print(AnomalyTable.render(anomalies))
            }
        }
    }
}

enum AnomalyTable {
    static func render(_ anomalies: [Anomaly]) -> String {
        let header = ["START", "DURATION", "NAMESPACE/POD", "KIND", "SCORE", "URI", "EVIDENCE"]
        let rows = anomalies.map { a -> [String] in
            [time(a.startNs), String(format: "%.0fs", Double(a.endNs - a.startNs) / 1e9),
             a.namespace.isEmpty ? a.pod : a.namespace + "/" + a.pod, a.kind, String(format: "%.1f", a.score),
             a.uri ?? "-", (a.evidence.series.prefix(3) + a.evidence.flows.prefix(1)).joined(separator: "; ")]
                .map(TerminalText.escape)  // URIs and names come from traffic
        }
        let widths = header.indices.map { i in ([header] + rows).map { $0[i].count }.max() ?? 0 }
        return ([header] + rows).map { row in
            row.enumerated().map { i, cell in i == row.count - 1 ? cell : cell.padding(toLength: widths[i], withPad: " ", startingAt: 0) }
                .joined(separator: "  ")
        }.joined(separator: "\n")
    }

    /// The anomaly's anomalies.jsonl object with `run` added.
    static func json(_ a: Anomaly, run: String) -> String {
        guard var object = try? JSONSerialization.jsonObject(with: Data(a.jsonLine().utf8)) as? [String: Any] else { return "{}" }
        object["run"] = run
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self)
    }

    static func time(_ ns: UInt64) -> String {
        let formatter = DateFormatter()
        formatter.dateFormat = "yyyy-MM-dd HH:mm:ss"
        formatter.timeZone = TimeZone(identifier: "UTC")
        return formatter.string(from: Date(timeIntervalSince1970: Double(ns) / 1e9))
    }
}
