import Foundation
import Testing
@testable import NetobsAnalysis

/// A diagnostic, off unless NETOBS_DEBUG_MISS is set: each held-out fault the analysis missed,
/// with its run's labels and the incidents overlapping it (ranking, evidence, features).
/// `NETOBS_DEBUG_MISS=1 swift test --skip-build --filter DebugMissTests`
struct DebugMissTests {
    @Test(.enabled(if: ProcessInfo.processInfo.environment["NETOBS_DEBUG_MISS"] != nil))
    func printMisses() {
        for run in EndToEndTests.heldOut {
            let anomalies = Replay.detect(run.records, model: AnalysisModel()).anomalies
            for l in run.labels {
                let found = anomalies.contains { l.matches(pod: $0.pod, namespace: $0.namespace) && l.overlaps(startNs: $0.startNs, endNs: $0.endNs) }
                if found { continue }
                print("MISS \(run.name) \(l.pod) \(l.kind) peer=\(l.peer ?? "-") [\(l.startNs % 1_000_000_000_000 / 1_000_000_000), \(l.endNs % 1_000_000_000_000 / 1_000_000_000))")
                print("  labels: " + run.labels.map { "\($0.pod) \($0.kind) [\($0.startNs % 1_000_000_000_000 / 1_000_000_000),\($0.endNs % 1_000_000_000_000 / 1_000_000_000))" }.joined(separator: "; "))
                for a in anomalies where l.overlaps(startNs: a.startNs, endNs: a.endNs) {
                    print("  A \(a.pod) \(a.kind) [\(a.startNs % 1_000_000_000_000 / 1_000_000_000),\(a.endNs % 1_000_000_000_000 / 1_000_000_000)) rank=\(a.ranking.map { "\($0.pod):\($0.score)" }) series=\(a.evidence.series) flows=\(a.evidence.flows.prefix(5)) alarms=\(a.evidence.alarms.prefix(6)) f=\(a.evidence.features)")
                }
            }
        }
    }
}
