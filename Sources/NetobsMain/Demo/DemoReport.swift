import Foundation
import NetobsAnalysis
import NetobsDemo

/// The end-of-run summary on stdout: what was injected, what was collected, where it is.
enum DemoReport {
    static func print(_ result: DemoRun.Result, layout: DemoLayout) {
        var lines = ["", "netobs demo finished: \(layout.out)"]
        lines.append("  load: \(result.loadRequests) requests (\(result.loadNon2xx) non-2xx, \(result.loadSocketErrors) socket errors)")
        lines.append("  faults injected (labels.jsonl):")
        for label in result.labels {
            let seconds = Double(label.endNs - label.startNs) / 1e9
            let from = Double(label.startNs - result.loadStartNs) / 1e9
            let effect = label.effect.sorted { $0.key < $1.key }.map { "\($0.key) \(Int($0.value))" }.joined(separator: ", ")
            let kind = label.kind.padding(toLength: 6, withPad: " ", startingAt: 0)
            lines.append("    \(kind)\(label.namespace)/\(label.pod) at " + String(format: "%.1fs for %.1fs", from, seconds)
                + (effect.isEmpty ? "" : "  (\(effect))"))
        }
        lines.append("  records: \(result.records) (http \(result.httpRecords)) in records.jsonl")
        if let anomalies = result.anomalies { lines.append("  anomalies: \(anomalies) in anomalies.jsonl") }
        if result.reportWritten {
            lines.append("  evaluation: report.json")
            if let data = FileManager.default.contents(atPath: layout.report),
               let e = try? JSONDecoder().decode(Evaluation.self, from: data) {
                lines.append(String(format: "    found %d of %d faults on their pod, %d false alarms; AC@1 %.2f, kind right for %d of %d, median delay %.1f intervals",
                                    e.detectedLabels, e.labels, e.anomalies - e.truePositives, e.acAt1, e.kindCorrect,
                                    e.detectedLabels, e.medianDelayIntervals))
                for missed in e.missed { lines.append("    missed: \(missed)") }
            }
        }
        for notice in result.notices { lines.append("  notice: \(notice)") }
        Swift.print(lines.joined(separator: "\n"))
    }
}
