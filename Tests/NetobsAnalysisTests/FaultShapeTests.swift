import Foundation
import Testing
@testable import NetobsAnalysis

/// The synthetic faults move what the real ones move (the end-to-end tests score the analysis on
/// them), and the analysis names each kind from that shape.
struct FaultShapeTests {
    static func run(_ kind: FaultKind, on pod: String, magnitude: Double, peer: String? = nil, seed: UInt64 = 5)
        -> (store: SeriesStore, anomalies: [Anomaly], labels: [FaultLabel]) {
        var cluster = SyntheticCluster(seed: seed, faults: [SyntheticCluster.Fault(pod: pod, kind: kind, start: 100, end: 140,
                                                                                   magnitude: magnitude, peer: peer)],
                                       intervals: 180)
        cluster.generate()
        var analyzer = OnlineAnalyzer()
        analyzer.ingest(records: cluster.records.sorted { $0.tsNs < $1.tsNs })
        _ = analyzer.finish()
        return (analyzer.store, Replay.detect(cluster.records, model: AnalysisModel()).anomalies, cluster.labels)
    }

    /// Median of a pod series before (60-100) and during (105-140) the fault.
    static func level(_ store: SeriesStore, _ pod: String, _ metric: Metric) -> (before: Double, during: Double) {
        func median(_ from: Int, _ to: Int) -> Double {
            let k0 = Int(SyntheticCluster.epochNs / SyntheticCluster.intervalNs)
            let v = (store.values(.pod("sock-shop/" + pod, metric), from: k0 + from, to: k0 + to) ?? [])
                .map { $0.isNaN && metric.isCount ? 0 : $0 }.filter { !$0.isNaN }.map(Double.init)
            return Deviation.median(v)
        }
        return (median(60, 100), median(105, 140))
    }

    @Test func anApplicationDelayMovesTheServersOwnAnswerTimeNotRTT() {
        let (store, anomalies, _) = Self.run(.delay, on: "catalogue", magnitude: 150e6)
        let own = Self.level(store, "catalogue", .httpServerLatencyP50), rtt = Self.level(store, "catalogue", .rtt)
        #expect(own.during > own.before + 140e6)
        #expect(rtt.during < rtt.before * 1.5)
        #expect(anomalies.map { "\($0.pod) \($0.kind)" } == ["catalogue delay"])
    }

    @Test func aCPUCapMakesTheAnswerTimeErratic() {
        let (store, anomalies, _) = Self.run(.cpu, on: "orders", magnitude: 150e6)
        let own = Self.level(store, "orders", .httpServerLatencyP50)
        #expect(own.during > own.before + 20e6)
        #expect(anomalies.map { "\($0.pod) \($0.kind)" } == ["orders cpu"])
    }

    @Test func aBandwidthCapMovesRTTAndTheClientsViewNotTheServersOwn() {
        let (store, anomalies, _) = Self.run(.bandwidth, on: "catalogue", magnitude: 200e6)
        let own = Self.level(store, "catalogue", .httpServerLatencyP50), seen = Self.level(store, "catalogue", .httpClientLatencyP50)
        let rtt = Self.level(store, "catalogue", .rtt)
        #expect(own.during < own.before * 1.5)
        #expect(seen.during > seen.before + 90e6)
        #expect(rtt.during > rtt.before + 90e6)
        #expect(anomalies.map { "\($0.pod) \($0.kind)" } == ["catalogue bandwidth"])
    }

    @Test func aKilledPodServesNothingAndComesBackAsANewProcess() {
        let (store, anomalies, _) = Self.run(.kill, on: "catalogue", magnitude: 1)
        #expect(Self.level(store, "catalogue", .httpServed).during == 0)
        #expect(Self.level(store, "catalogue", .connRefused).during > 0)
        #expect(anomalies.map { "\($0.pod) \($0.kind)" } == ["catalogue kill"])
    }

    @Test func aPartitionCutsOneCallerOffAndLeavesTheOtherServed() {
        let (store, anomalies, labels) = Self.run(.partition, on: "carts", magnitude: 1, peer: "orders")
        let served = Self.level(store, "carts", .httpServed)
        #expect(served.during > 0 && served.during < served.before)
        #expect(Self.level(store, "carts", .connTimeouts).during > 0)
        #expect(anomalies.count == 1)
        #expect(anomalies.first.map { labels[0].matches(pod: $0.pod, namespace: $0.namespace) } == true)
        #expect(anomalies.first?.kind == "partition")
    }

    @Test func aLookupFaultIsNamedAfterTheNameThatFails() {
        let (_, anomalies, _) = Self.run(.dns, on: "payment", magnitude: 1)
        #expect(anomalies.map { "\($0.pod) \($0.kind)" } == ["payment dns"], "\(anomalies)")
    }

    @Test(arguments: [(FaultKind.loss, 0.3), (.reset, 0.6)])
    func lossAndResetKeepTheirKinds(kind: FaultKind, magnitude: Double) {
        let (_, anomalies, _) = Self.run(kind, on: "carts", magnitude: magnitude)
        #expect(anomalies.map { "\($0.pod) \($0.kind)" } == ["carts \(kind.rawValue)"])
    }
}
