import Foundation
import Testing
@testable import NetobsAnalysis

/// What the second real run taught (resets on orders missed): a pod whose noisy series alarms
/// weakly is no member of an incident, so it neither keeps a finished fault's incident open nor
/// hides its own later fault inside it; and a callee whose connections fail is the culprit of
/// its callers' errors, however many more errors they count.
struct ResetFaultTests {
    static let second: UInt64 = 1_000_000_000

    static func tcp(_ client: String, _ server: String, at s: Int, _ i: Int, refused: Bool = false) -> FlowRecord {
        var r = FlowRecord(kind: "tcp", tsNs: UInt64(s) * second + UInt64(i) * 10_000_000)
        r.role = "client"
        r.srcPod = client
        r.dstPod = server
        r.tcpRttNs = 50_000
        r.tcpConnectFailed = refused
        r.tcpError = refused ? "ECONNREFUSED" : nil
        return r
    }

    /// The real run's shape: catalogue slow 60-90 s, orders refusing 8 connections a second
    /// 110-135 s (front-end answers 502 for them, counted at both ends), and orders' latency flickering between its
    /// normal level and ~7 scale floors above it from 55 s to 140 s (a weak alarm throughout).
    static func run(flicker: Bool = true, catalogueDelay: Bool = true, resets: Bool = true) -> [FlowRecord] {
        let slow = catalogueDelay ? 60..<90 : 0..<0
        let refusing = resets ? 110..<135 : 0..<0
        var records = RealRunFixesTests.http(client: "loadgen", server: "front-end", seconds: 0..<200) { slow.contains($0) ? 80 : 2 }
            + RealRunFixesTests.http(client: "front-end", server: "catalogue", seconds: 0..<200) { slow.contains($0) ? 60 : 2 }
            + RealRunFixesTests.http(client: "front-end", server: "orders", seconds: 0..<200) { s in
                flicker && (55..<140).contains(s) && s % 2 == 1 ? 5.5 : 2
            }.filter { !refusing.contains(Int($0.tsNs / second)) || $0.tsNs % (5 * 100_000_000) == 0 }
            + RealRunFixesTests.http(client: "orders", server: "user", seconds: 0..<200) { _ in 1.5 }
        for s in refusing {
            for i in 0..<8 {
                var failed = FlowRecord(kind: "http", tsNs: UInt64(s) * second + UInt64(i) * 100_000_000 + 50_000_000)
                failed.role = "server"
                failed.srcPod = "front-end"
                failed.dstPod = "loadgen"
                failed.httpURI = "/orders"
                failed.httpStatus = 502
                failed.httpDurationNs = 1e6
                var seenByLoadgen = failed
                seenByLoadgen.role = "client"
                seenByLoadgen.srcPod = "loadgen"
                seenByLoadgen.dstPod = "front-end"
                records += [failed, seenByLoadgen]
                records.append(tcp("front-end", "orders", at: s, 10 + i, refused: true))
            }
        }
        for s in 0..<200 {
            for (i, edge) in [("loadgen", "front-end"), ("front-end", "catalogue"), ("front-end", "orders"), ("orders", "user")].enumerated() {
                records.append(tcp(edge.0, edge.1, at: s, i))
            }
        }
        return records
    }

    static func spans(_ anomalies: [Anomaly]) -> [String] {
        anomalies.map { "\($0.pod) \($0.kind) \($0.startNs / second)-\($0.endNs / second)" }
    }

    @Test func theFlickerAlonePassesForAWeakAlarm() {
        // The bystander's series does alarm (an incident at a low bar), but opens none at the default.
        let quiet = Self.run(catalogueDelay: false, resets: false)
        #expect(Replay.detect(quiet, model: AnalysisModel()).anomalies.isEmpty)
        var model = AnalysisModel()
        model.incidentScore = 5
        #expect(Replay.detect(quiet, model: model).anomalies.contains { $0.pod == "orders" })
    }

    @Test func aWeaklyAlarmingPodNeitherProlongsAFaultNorHidesItsOwnInIt() {
        let (anomalies, _) = Replay.detect(Self.run(), model: AnalysisModel())
        let spans = Self.spans(anomalies)
        #expect(anomalies.count == 2, "\(spans)")
        let delay = anomalies.first { $0.pod == "catalogue" }
        #expect(delay?.kind == "delay", "\(spans)")
        #expect(delay.map { $0.endNs <= 100 * Self.second } == true, "\(spans)")
        let reset = anomalies.first { $0.pod == "orders" }
        #expect(reset?.kind == "reset", "\(spans)")
        #expect(reset.map { $0.startNs >= 100 * Self.second && $0.startNs < 115 * Self.second } == true, "\(spans)")
    }

    @Test func theURIOfAPodRefusingConnectionsIsTheOneFailingAtItsCallers() {
        // Refused calls never reach orders: its own URIs show only its flicker; front-end's
        // /orders answers 502 for each of them.
        let reset = Replay.detect(Self.run(), model: AnalysisModel()).anomalies.first { $0.pod == "orders" }
        #expect(reset?.uri == "/orders")
        #expect(reset?.evidence.uris.first?.hasPrefix("front-end /orders http_errors z=") == true, "\(reset?.evidence.uris ?? [])")
    }

    static func score(_ pod: String, graph: Double = 0.2, _ metrics: [Metric: Double]) -> Localizer.PodScore {
        let deviation = metrics.values.max() ?? 0
        return Localizer.PodScore(pod: pod, score: deviation * (0.2 + 0.8 * graph), deviation: deviation,
                                  graphFactor: graph, metrics: metrics)
    }

    @Test func aCalleeRefusingConnectionsGoesAheadOfItsCaller() {
        let localizer = Localizer()
        let calls: Set = [CallEdge(client: "front-end", server: "orders")]
        // The real runs' deviations, with the caller counting each failed call twice (its 502
        // seen from both ends) and a few more failures: it scores 2.3× its callee, past the tie ratio.
        var ranking = [Self.score("front-end", [.httpErrors: 25, .drops: 4.1]),
                       Self.score("orders", [.connErrors: 10.9, .drops: 4.1])]
        localizer.preferCallees(&ranking, calls: calls)
        #expect(ranking.map(\.pod) == ["orders", "front-end"])
        // Every rejected segment is a drop too: more drops than failed connections changes nothing.
        ranking = [Self.score("front-end", [.httpErrors: 40, .drops: 14]),
                   Self.score("orders", [.connErrors: 9.4, .drops: 14, .retransmits: 1.7])]
        localizer.preferCallees(&ranking, calls: calls)
        #expect(ranking.map(\.pod) == ["orders", "front-end"])
    }

    /// The real shape of a refused callee: the caller's only moved connection is the one with
    /// it, and the caller has more quiet connections than the callee (a lower graph factor for
    /// the callee says nothing then). With another moved connection of the caller, it stays.
    @Test func aCalleeRefusingTheCallersOnlyMovedConnectionGoesAheadWhateverItsGraphFactor() {
        let calls: Set = [CallEdge(client: "front-end", server: "orders"), CallEdge(client: "loadgen", server: "front-end")]
        let caller = Self.score("front-end", graph: 0.25, [.httpErrors: 40])
        let callee = Self.score("orders", graph: 0.2, [.connErrors: 10.9])
        var ranking = [caller, callee]
        Localizer().preferCallees(&ranking, calls: calls, moved: [.init(a: "front-end", b: "orders")])
        #expect(ranking.map(\.pod) == ["orders", "front-end"])
        ranking = [caller, callee]
        Localizer().preferCallees(&ranking, calls: calls, moved: [.init(a: "front-end", b: "orders"), .init(a: "front-end", b: "carts")])
        #expect(ranking.map(\.pod) == ["front-end", "orders"])
        // Without decisive transport evidence at the callee, the caller keeps its place.
        ranking = [caller, Self.score("orders", graph: 0.2, [.connErrors: 4])]
        Localizer().preferCallees(&ranking, calls: calls, moved: [.init(a: "front-end", b: "orders")])
        #expect(ranking.map(\.pod) == ["front-end", "orders"])
    }

    /// Loss on orders moves all its connections; user, called by orders only, shows the larger
    /// deviation (its quiet latency tail). orders is the common end of user's moved connections.
    @Test func theCommonEndOfTheTopPodsMovedConnectionsGoesFirst() {
        let user = Self.score("user", graph: 0.2, [.httpLatencyP99: 900, .retransmits: 6])
        let orders = Self.score("orders", graph: 1, [.httpLatencyP99: 270, .retransmits: 8])
        let all: Set<Localizer.Pair> = [.init(a: "orders", b: "user"), .init(a: "orders", b: "payment"),
                                        .init(a: "front-end", b: "orders"), .init(a: "carts", b: "orders")]
        var ranking = [user, orders]
        Localizer().preferHubOfMovedEdges(&ranking, moved: all)
        #expect(ranking.map(\.pod) == ["orders", "user"])
        // Loss on user: its one connection moved, orders is on no other: user stays first.
        ranking = [user, Self.score("orders", graph: 0.2, [.httpLatencyP99: 270, .retransmits: 8])]
        Localizer().preferHubOfMovedEdges(&ranking, moved: [.init(a: "orders", b: "user")])
        #expect(ranking.map(\.pod) == ["user", "orders"])
        // user on a moved connection of its own besides: no common end.
        ranking = [Self.score("user", graph: 0.4, [.httpLatencyP99: 900]), orders]
        Localizer().preferHubOfMovedEdges(&ranking, moved: all.union([.init(a: "user", b: "carts-db")]))
        #expect(ranking.map(\.pod) == ["user", "orders"])
    }

    @Test(arguments: [
        // Lookups failing decide its kind, not its refused connections: the tie ratio decides.
        ResetFaultTests.score("orders", [.connErrors: 6, .dnsFailures: 8]),
        // Its failed connections come with retransmits (a lossy path): the tie ratio decides.
        ResetFaultTests.score("orders", [.connErrors: 6, .retransmits: 9, .drops: 9]),
        // Too few failed connections to tell.
        ResetFaultTests.score("orders", [.connErrors: 4]),
        // The caller is on more of the connections that failed (its own fault breaks its calls).
        ResetFaultTests.score("orders", graph: 0.1, [.connErrors: 10.9]),
    ])
    func aCalleeStaysBehindWithoutDecidingTransportEvidence(callee: Localizer.PodScore) {
        var ranking = [Self.score("front-end", [.httpErrors: 40]), callee]
        // front-end is called too (by the load generator): a pure client gives way to its server anyway.
        Localizer().preferCallees(&ranking, calls: [CallEdge(client: "front-end", server: "orders"),
                                                    CallEdge(client: "loadgen", server: "front-end")])
        #expect(ranking.map(\.pod) == ["front-end", "orders"])
    }
}
