import Testing
@testable import NetobsAnalysis

/// A fault moves its pod and its callers together: strong series of two pods in one interval
/// open an incident in that interval; one pod's jump waits for the hysteresis' second interval.
struct CorroborationTests {
    /// front-end calls carts; from `slowFrom` on carts is slow, and front-end too when `callerToo`.
    static func records(slowFrom: Int, callerToo: Bool) -> [FlowRecord] {
        RealRunFixesTests.http(client: "loadgen", server: "front-end", seconds: 0..<120) { callerToo && $0 >= slowFrom ? 80 : 2 }
            + RealRunFixesTests.http(client: "front-end", server: "carts", seconds: 0..<120) { $0 >= slowFrom ? 60 : 2 }
    }

    /// The interval whose closing reported the incident open.
    static func openedAt(_ records: [FlowRecord], model: AnalysisModel = AnalysisModel()) -> Int? {
        var analyzer = OnlineAnalyzer(model: model)
        analyzer.ingest(records: records)
        for k in 1...120 {
            if let open = analyzer.close(below: k).first(where: { $0.status == "open" }) {
                #expect(open.detectedNs == UInt64(k) * 1_000_000_000)
                #expect(open.pod == "carts")
                return k - 1
            }
        }
        return nil
    }

    @Test func aFaultSeenByItsPodAndItsCallerOpensInItsFirstInterval() {
        #expect(Self.openedAt(Self.records(slowFrom: 60, callerToo: true)) == 60)
        var off = AnalysisModel()
        off.corroboratingSeries = 0
        #expect(Self.openedAt(Self.records(slowFrom: 60, callerToo: true), model: off) == 61)
    }

    @Test func onePodsJumpWaitsForASecondInterval() {
        #expect(Self.openedAt(Self.records(slowFrom: 60, callerToo: false)) == 61)
    }

    @Test func oneCorroboratedIntervalIsAWithdrawnAlertNotAnIncident() {
        let blip = RealRunFixesTests.http(client: "loadgen", server: "front-end", seconds: 0..<120) { $0 == 60 ? 80 : 2 }
            + RealRunFixesTests.http(client: "front-end", server: "carts", seconds: 0..<120) { $0 == 60 ? 60 : 2 }
        var analyzer = OnlineAnalyzer()
        analyzer.ingest(records: blip)
        #expect(analyzer.finish().map(\.status) == ["open", "dismissed"])
        #expect(analyzer.stats.dismissed == 1)
        #expect(Replay.detect(blip, model: AnalysisModel()).anomalies.isEmpty)
    }
}
