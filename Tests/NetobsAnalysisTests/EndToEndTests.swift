import Testing
@testable import NetobsAnalysis

/// Train on some seeds of the synthetic cluster, evaluate on held-out ones.
struct EndToEndTests {
    static let trainSeeds: [UInt64] = [1, 2, 3]
    static let heldOutSeeds: [UInt64] = [11, 12, 13, 14]

    @Test func untrainedDefaultsFindLocateAndClassifyFaults() {
        let runs = Self.heldOutSeeds.map(SyntheticCluster.run)
        let e = Training.evaluate(runs, model: AnalysisModel())
        print("untrained:", Self.summary(e))
        #expect(e.labels == 16)
        #expect(e.f1 >= 0.9)
        #expect(e.acAt1 >= 0.8)
        #expect(e.avgAt5 >= 0.9)
        #expect(e.kindAccuracy >= 0.9)
        #expect(e.medianDelayIntervals <= 2)
    }

    @Test func trainedOnSomeSeedsMeetsTheTargetsOnHeldOutSeeds() {
        let outcome = Training.fit(Self.trainSeeds.map(SyntheticCluster.run), zGrid: [4, 8], alphaGrid: [-9.2, -18.4])
        #expect(outcome.examples == 12)
        let e = Training.evaluate(Self.heldOutSeeds.map(SyntheticCluster.run), model: outcome.model)
        print("trained:", Self.summary(e))
        #expect(e.f1 >= 0.9)
        #expect(e.acAt1 >= 0.8)
        #expect(e.avgAt5 >= 0.9)
        #expect(e.kindAccuracy >= 0.9)
        #expect(e.medianDelayIntervals <= 2)
    }

    static func summary(_ e: Evaluation) -> String {
        "P=\(e.precision) R=\(e.recall) F1=\(e.f1) AC@1=\(e.acAt1) AC@3=\(e.acAt3) Avg@5=\(e.avgAt5) kind=\(e.kindAccuracy) delay=\(e.medianDelayIntervals) missed=\(e.missed) fp=\(e.falsePositives) byKind=\(e.byKind)"
    }
}
