import Foundation
import Testing
@testable import NetobsAnalysis

/// What the first real labelled run taught: no alarm before a baseline exists, no explosion on
/// a series with no spread, one incident per fault, lookup faults named after the failing name,
/// and kinds told by the signal that decides them.
struct RealRunFixesTests {
    // MARK: Detector

    @Test func noAlarmBeforeTheWarmUpEvenOnAHugeValue() {
        let config = DetectorConfig()
        var values = DetectorTests.latency(60, seed: 21)
        for k in (config.warmup - 8)..<config.warmup { values[k] *= 50 }
        let on = DetectorTests.alarms(values, metric: .httpLatencyP99, config: config)
        #expect(on.isEmpty, "alarms at \(on)")
        // The same jump once the baseline is learned does alarm.
        var late = DetectorTests.latency(60, seed: 21)
        for k in 40..<48 { late[k] *= 50 }
        #expect(DetectorTests.alarms(late, metric: .httpLatencyP99, config: config).contains(41))
    }

    @Test func aSeriesWithNoSpreadIsJudgedOnItsScaleFloor() {
        // A constant 1 ms p99 (MAD 0): +20% stays under the relative floor, +0.4 ms under the
        // absolute one; a tenfold jump alarms.
        let flat = [Double](repeating: 1e6, count: 40)
        #expect(DetectorTests.alarms(flat + [Double](repeating: 1.2e6, count: 10), metric: .dnsLatencyP99).isEmpty)
        #expect(DetectorTests.alarms(flat + [Double](repeating: 1.4e6, count: 10), metric: .dnsLatencyP99).isEmpty)
        #expect(!DetectorTests.alarms(flat + [Double](repeating: 10e6, count: 10), metric: .dnsLatencyP99).isEmpty)
    }

    // MARK: Incidents

    /// HTTP records to `server` from `client`, one per 100 ms, latency by interval.
    static func http(client: String, server: String, seconds: Range<Int>, latencyMs: (Int) -> Double) -> [FlowRecord] {
        var rng = SeededRandom(seed: UInt64(server.utf8.reduce(0) { $0 &* 31 &+ Int($1) } & 0xffff))
        return seconds.flatMap { s in
            (0..<10).map { i in
                var r = FlowRecord(kind: "http", tsNs: UInt64(s) * 1_000_000_000 + UInt64(i) * 100_000_000)
                r.role = "server"
                r.srcPod = server
                r.dstPod = client
                r.httpStatus = 200
                r.httpDurationNs = latencyMs(s) * 1e6 * rng.lognormal(median: 1, sigma: 0.1)
                return r
            }
        }
    }

    @Test func aSecondFaultWhileTheFirstPodsCallersStillAlarmIsItsOwnIncident() {
        // front-end (caller of both) is slow from 60 s to 130 s, carts from 60 s to 90 s,
        // catalogue from 95 s to 130 s: one long caller alarm spanning two faults.
        let records = Self.http(client: "loadgen", server: "front-end", seconds: 0..<200) { (60..<130).contains($0) ? 80 : 2 }
            + Self.http(client: "front-end", server: "carts", seconds: 0..<200) { (60..<90).contains($0) ? 60 : 2 }
            + Self.http(client: "front-end", server: "catalogue", seconds: 0..<200) { (95..<130).contains($0) ? 60 : 2 }
        let (anomalies, _) = Replay.detect(records, model: AnalysisModel())
        let spans = anomalies.map { (Int($0.startNs / 1_000_000_000), Int($0.endNs / 1_000_000_000), $0.pod) }
        #expect(anomalies.count == 2, "\(spans)")
        #expect(spans.first.map { $0.0 >= 58 && $0.1 <= 96 } == true, "\(spans)")
        #expect(spans.last.map { $0.0 >= 90 && $0.1 >= 128 } == true, "\(spans)")
    }

    @Test func weakAlarmsOpenNoIncident() {
        // carts creeps to ~9 scale floors above its baseline for 20 s: alarmed, but no incident.
        let records = Self.http(client: "front-end", server: "carts", seconds: 0..<120) { (60..<80).contains($0) ? 5.5 : 2 }
        var model = AnalysisModel()
        #expect(Replay.detect(records, model: model).anomalies.isEmpty)
        model.incidentScore = 3
        #expect(!Replay.detect(records, model: model).anomalies.isEmpty)
    }

    // MARK: Localization and kinds

    @Test(arguments: ["payment", "payment.sock-shop.svc.cluster.local", "payment.sock-shop", "payment.svc.cluster.local"])
    func aFailingDomainNamesItsPod(domain: String) {
        let pods: Set = ["sock-shop/orders", "sock-shop/payment", "sock-shop/payment-db", "other/payment"]
        #expect(Localizer.pod(named: domain, among: pods, near: "sock-shop/orders") == "sock-shop/payment")
        #expect(Localizer.pod(named: "payment.other.svc.cluster.local", among: pods, near: "sock-shop/orders") == "other/payment")
        #expect(Localizer.pod(named: "shipping.sock-shop.svc.cluster.local", among: pods, near: "sock-shop/orders") == nil)
        #expect(Localizer.pod(named: "user", among: ["sock-shop/user-5f7c9"], near: "sock-shop/orders") == "sock-shop/user-5f7c9")
    }

    @Test func aLookupFaultIsLocatedAtTheNameThatFails() {
        let localizer = Localizer()
        func score(_ pod: String, _ metrics: [Metric: Double]) -> Localizer.PodScore {
            Localizer.PodScore(pod: pod, score: metrics.values.max() ?? 0, deviation: metrics.values.max() ?? 0,
                               graphFactor: 1, metrics: metrics)
        }
        let querier = score("sock-shop/orders", [.dnsFailures: 96, .httpErrors: 12])
        var ranking = [querier, score("sock-shop/front-end", [.httpErrors: 9])]
        let pods: Set = ["sock-shop/orders", "sock-shop/front-end", "sock-shop/payment"]
        localizer.namePodOfFailingDomain(&ranking, domains: [("payment.sock-shop.svc.cluster.local", .dnsFailures, 24)], pods: pods)
        #expect(ranking.map(\.pod) == ["sock-shop/payment", "sock-shop/orders", "sock-shop/front-end"])
        #expect(ranking[0].metrics == querier.metrics)
        // A querier whose strongest signal is not DNS keeps its place (its lookups fail because it is broken).
        var slow = [score("sock-shop/orders", [.dnsFailures: 20, .httpLatencyP99: 300])]
        localizer.namePodOfFailingDomain(&slow, domains: [("payment", .dnsFailures, 24)], pods: pods)
        #expect(slow.map(\.pod) == ["sock-shop/orders"])
    }

    @Test func kindsFollowTheSignalThatDecidesThem() {
        let c = FaultClassifier.default
        func kind(latency: Double = 0, rtt: Double = 0, retransmits: Double = 0, drops: Double = 0, conn: Double = 0,
                  errors: Double = 0, dns: Double = 0, own: Double = 0) -> String {
            c.classify(FaultClassifier.features([.httpLatencyP99: latency, .rtt: rtt, .retransmits: retransmits,
                                                 .drops: drops, .connErrors: conn, .httpErrors: errors, .dnsFailures: dns,
                                                 .httpServerLatencyP50: own]))
        }
        // The real run's four faults, as the located pods' deviations (the delay is the
        // application's: its own answer time moved as much as its clients' view).
        #expect(kind(latency: 500, rtt: 0.1, own: 500) == "delay")
        #expect(kind(latency: 1000, rtt: 0.6, retransmits: 14, drops: 20, conn: 1.4, errors: 2, dns: 4) == "loss")
        #expect(kind(retransmits: 1.3, drops: 6.2, conn: 12.8) == "reset")
        // A rejected segment is also a drop: more drops than failed connections is still a reset,
        // unless the segments were sent again (loss, whose timeouts also fail connections).
        #expect(kind(retransmits: 1.7, drops: 14, conn: 9.4) == "reset")
        #expect(kind(latency: 600, retransmits: 13, drops: 20, conn: 8) == "loss")
        #expect(kind(latency: 2.8, errors: 12, dns: 96) == "dns")
        // Latency with some retransmits is no clean delay: the centroids decide.
        #expect(FaultClassifier.unambiguous(FaultClassifier.features([.httpLatencyP99: 400, .retransmits: 2])) == nil)
    }
}
