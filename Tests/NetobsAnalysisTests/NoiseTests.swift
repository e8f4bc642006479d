import Foundation
import Testing
@testable import NetobsAnalysis

/// What a real run on a busy machine taught: the p50 of a service whose endpoints differ
/// tenfold, at a few requests an interval, jumps between their levels with no fault; and a
/// two-interval RTT spike is a blip, not an incident.
struct NoiseTests {
    /// Orders' real p50: GET ~0.7 ms, POST 5-20 ms; 4 intervals in 10 have a POST majority.
    static func mixedEndpoints(_ n: Int, seed: UInt64) -> [Double] {
        var rng = SeededRandom(seed: seed)
        return (0..<n).map { _ in rng.chance(0.4) ? rng.uniform(4e6, 20e6) : rng.lognormal(median: 0.7e6, sigma: 0.3) }
    }

    @Test func aP50JumpingBetweenEndpointLevelsIsItsNormalSpread() {
        for seed: UInt64 in 1...5 {
            let on = DetectorTests.alarms(Self.mixedEndpoints(300, seed: seed), metric: .httpLatencyP50)
            #expect(on.isEmpty, "seed \(seed): alarms at \(on)")
        }
        // A real slowdown of every endpoint still alarms within two intervals.
        var slow = Self.mixedEndpoints(300, seed: 6)
        for k in 200..<230 { slow[k] += 250e6 }
        #expect(DetectorTests.alarms(slow, metric: .httpLatencyP50).first.map { $0 <= 201 } == true)
    }

    @Test func theUpperSpreadMatchesTheMADOnNormalData() {
        var rng = SeededRandom(seed: 9)
        var b = RobustBaseline(window: 32)
        for _ in 0..<32 { b.push(100 + 10 * rng.normal()) }
        #expect(b.upperScale > 0.5 * b.scale && b.upperScale < 2 * b.scale, "\(b.upperScale) vs \(b.scale)")
    }

    /// HTTP to `server` at 2 ms, except `spike` (interval → ms).
    static func spiky(_ spike: [Int: Double]) -> [FlowRecord] {
        RealRunFixesTests.http(client: "loadgen", server: "front-end", seconds: 0..<120) { spike[$0] ?? 2 }
    }

    @Test func oneAnomalousIntervalAfterOpeningIsDismissedTwoAreAnIncident() {
        // 60: weakly anomalous (~8 scale floors), 61: strong: the alarm holds with one strong interval.
        var analyzer = OnlineAnalyzer()
        analyzer.ingest(records: Self.spiky([60: 6, 61: 30]))
        let statuses = analyzer.finish().map(\.status)
        #expect(statuses == ["open", "dismissed"])
        #expect(Replay.detect(Self.spiky([60: 6, 61: 30]), model: AnalysisModel()).anomalies.isEmpty)
        let confirmed = Replay.detect(Self.spiky([60: 6, 61: 30, 62: 30]), model: AnalysisModel()).anomalies
        #expect(confirmed.map(\.pod) == ["front-end"])
        var model = AnalysisModel()
        model.confirmIntervals = 1
        #expect(Replay.detect(Self.spiky([60: 6, 61: 30]), model: model).anomalies.count == 1)
        // One strong interval, then weakly anomalous ones: a low-rate fault, confirmed.
        var long = [60: 6.0, 61: 30.0]
        for k in 62..<75 where k % 3 != 0 { long[k] = 6 }
        #expect(Replay.detect(Self.spiky(long), model: AnalysisModel()).anomalies.map(\.pod) == ["front-end"])
    }
}
