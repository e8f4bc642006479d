import Foundation
import Testing
@testable import NetobsAnalysis

/// Every detector on synthetic series: steps and sustained faults are found fast, single
/// spikes and slow drift are not incidents, and noise keeps false alarms bounded.
struct DetectorTests {
    /// Feeds `values` to a detector; returns the intervals where the alarm was on.
    static func alarms(_ values: [Double], metric: Metric, config: DetectorConfig = DetectorConfig()) -> [Int] {
        var d = SeriesDetector(metric: metric, config: config)
        return values.enumerated().compactMap { k, v in d.update(v, interval: k, config: config).alarm ? k : nil }
    }

    static func latency(_ n: Int, seed: UInt64, median: Double = 5e6) -> [Double] {
        var rng = SeededRandom(seed: seed)
        return (0..<n).map { _ in rng.lognormal(median: median, sigma: 0.2) }
    }

    @Test func aStepIsFoundWithinTwoIntervalsWithItsChangePoint() {
        var values = Self.latency(200, seed: 1)
        for k in 120..<160 { values[k] += 50e6 }
        let on = Self.alarms(values, metric: .httpLatencyP99)
        #expect(on.first == 121)
        #expect(on.allSatisfy { $0 >= 120 && $0 < 160 + 3 })
        var d = SeriesDetector(metric: .httpLatencyP99, config: DetectorConfig())
        let verdicts = values.enumerated().map { d.update($0.1, interval: $0.0, config: DetectorConfig()) }
        #expect(verdicts[121].runStart == 120)
    }

    @Test func aSingleSpikeIsNoIncident() {
        var values = Self.latency(200, seed: 2)
        values[100] += 500e6
        values[150] *= 20
        #expect(Self.alarms(values, metric: .httpLatencyP99).isEmpty)
    }

    @Test func slowDriftIsLearnedNotAlarmed() {
        var rng = SeededRandom(seed: 3)
        // +150% over 400 intervals.
        let values = (0..<400).map { k in rng.lognormal(median: 5e6 * (1 + 1.5 * Double(k) / 400), sigma: 0.1) }
        #expect(Self.alarms(values, metric: .httpLatencyP99).isEmpty)
    }

    @Test(arguments: [UInt64(4), 5, 6, 7, 8])
    func noiseRaisesFewAlarms(seed: UInt64) {
        var rng = SeededRandom(seed: seed)
        let heavy = (0..<2000).map { _ in rng.lognormal(median: 5e6, sigma: 0.5) }
        let on = Self.alarms(heavy, metric: .httpLatencyP99)
        // Heavy-tailed noise (log-sigma 0.5): at most 0.5% of intervals in alarm.
        #expect(on.count <= 10, "alarms at \(on)")
    }

    @Test func countBurstsAlarmButPoissonNoiseDoesNot() {
        var rng = SeededRandom(seed: 9)
        var counts = (0..<1000).map { _ in Double(rng.poisson(2)) }
        #expect(Self.alarms(counts, metric: .retransmits).count <= 3)
        for k in 500..<530 { counts[k] += 25 }
        let on = Self.alarms(counts, metric: .retransmits)
        #expect(on.first.map { $0 <= 501 } == true)
        #expect(on.filter { $0 >= 500 && $0 < 533 }.count >= 28)
    }

    @Test func quietCountSeriesNeedsARealBurst() {
        // Zero most of the time, a stray 1-2: never an incident; 8 in a row is one.
        var counts = [Double](repeating: 0, count: 300)
        for k in stride(from: 20, to: 300, by: 17) { counts[k] = 2 }
        #expect(Self.alarms(counts, metric: .connErrors).isEmpty)
        for k in 200..<210 { counts[k] = 8 }
        #expect(Self.alarms(counts, metric: .connErrors).contains(201))
    }

    @Test func baselineIsFrozenDuringALongFault() {
        var values = Self.latency(400, seed: 10)
        for k in 100..<300 { values[k] += 40e6 }
        let on = Set(Self.alarms(values, metric: .httpLatencyP99))
        #expect((101..<300).allSatisfy(on.contains))
        #expect(!on.contains(320))
    }
}

struct PrimitiveTests {
    @Test func robustBaselineIgnoresOutliers() {
        var b = RobustBaseline(window: 31, refreshEvery: 1)
        for i in 0..<31 { b.push(i == 7 ? 1e9 : 100 + Double(i % 3)) }
        #expect(b.median == 101)
        #expect(b.scale < 2)
    }

    @Test func spotThresholdSitsAboveNormalValuesAndFlagsExtremes() {
        var rng = SeededRandom(seed: 11)
        var spot = SPOT(q: 1e-3, calibration: 200)
        var flagged = 0
        for _ in 0..<5000 where spot.update(-log(max(rng.uniform(), 1e-12))) { flagged += 1 }
        // Exponential(1): P(X > zq) = 1e-3 ⇒ zq ≈ ln(1000) ≈ 6.9.
        #expect(spot.threshold > 5 && spot.threshold < 9.5)
        #expect(flagged < 20)
        let extreme = spot.update(30)
        #expect(extreme)
    }

    @Test func poissonTailMatchesClosedForm() {
        // P(X ≥ 10 | λ = 2) = 4.65e-5.
        let p = PoissonTest.logUpperTail(10, lambda: 2)
        #expect(abs(p - log(4.65e-5)) < 0.1)
        #expect(PoissonTest.logUpperTail(1, lambda: 2) == 0)
    }

    @Test func hysteresisNeedsKOfNAndClearsAfterQuiet() {
        var h = Hysteresis(k: 2, n: 3, clearAfter: 3)
        let states = [true, false, true, false, false, false].map { h.update($0) }
        #expect(states == [false, false, true, true, true, false])
    }
}
