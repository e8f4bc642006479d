import Foundation
import Testing
@testable import NetobsAnalysis

struct SeriesStoreTests {
    @Test func ringKeepsRetentionAndMarksGaps() {
        var store = SeriesStore(retention: .init(rawIntervals: 10, compactionFactor: 5, compactedBuckets: 3))
        let id = store.id(for: .pod("a", .rtt))
        for k in 0..<20 where k != 15 { store.append(id: id, interval: k, value: Float(k)) }
        let v = store.values(id: id, from: 8, to: 20)
        #expect(v[0].isNaN && v[1].isNaN) // 8, 9: beyond retention
        #expect(v[2] == 10 && v[11] == 19)
        #expect(v[7].isNaN) // 15: no value
        let accepted = store.append(id: id, interval: 3, value: 1)
        #expect(!accepted)
    }

    @Test func aWindowReachingBeforeIntervalZeroReadsNothingThere() {
        // A localization window of a fault in a run's first minute starts before interval 0.
        var store = SeriesStore(retention: .init(rawIntervals: 10, compactionFactor: 5, compactedBuckets: 3))
        let id = store.id(for: .pod("a", .rtt))
        for k in 0..<4 { store.append(id: id, interval: k, value: Float(k + 1)) }
        let v = store.values(id: id, from: -3, to: 4)
        #expect(v.prefix(3).allSatisfy { $0.isNaN })
        #expect(Array(v.suffix(4)) == [1, 2, 3, 4])
    }

    @Test func compactionKeepsMeanAndMaxPerBucketAndLogsThem() {
        var store = SeriesStore(retention: .init(rawIntervals: 10, compactionFactor: 5, compactedBuckets: 3))
        store.logsCompaction = true
        let id = store.id(for: .pod("a", .retransmits))
        for k in 0..<26 { store.append(id: id, interval: k, value: Float(k % 5)) }
        let buckets = store.compacted(id: id)
        #expect(buckets.count == 3)
        #expect(buckets.allSatisfy { $0.mean == 2 && $0.max == 4 })
        let logged = store.drainCompacted()
        #expect(logged.map(\.firstInterval) == [0, 5, 10, 15, 20])
        #expect(store.drainCompacted().isEmpty)
    }

    @Test func idleSeriesExpireAndTheirIdsAreReused() {
        var store = SeriesStore(retention: .init(rawIntervals: 10))
        let old = store.id(for: .pod("gone", .rtt))
        store.append(id: old, interval: 0, value: 1)
        let kept = store.id(for: .pod("here", .rtt))
        store.append(id: kept, interval: 25, value: 1)
        let expired = store.expire(before: 30)
        #expect(expired == [old])
        #expect(store.existingID(for: .pod("gone", .rtt)) == nil)
        let reused = store.id(for: .pod("new", .rtt))
        #expect(reused == old)
        #expect(store.values(id: old, from: 0, to: 2).allSatisfy { $0.isNaN })
    }
}

struct RecordTests {
    @Test func joinedAgentRecordsParse() throws {
        let http = try FlowRecord.parse(line: #"{"kind":"http","ts_ns":1700000000123456789,"role":"client","src_ip":"10.0.0.2","src_pod":"front-end","src_ns":"sock-shop","dst_pod":"carts","dst_ns":"sock-shop","http_request_uri":"/cart","http_status_code":503,"http_duration":2500000}"#)
        #expect(http.srcPod == "sock-shop/front-end" && http.dstPod == "sock-shop/carts")
        #expect(http.httpStatus == 503 && http.httpDurationNs == 2_500_000 && http.tsNs == 1_700_000_000_123_456_789)
        let tcp = try FlowRecord.parse(line: #"{"kind":"tcp","ts_ns":5,"role":"client","src_pod":"a","dst_pod":"external","tcp_retransmit":3,"tcp_drop":2,"tcp_drop_reasons":["NETFILTER_DROP"],"tcp_rtt":80000,"tcp_connect_failed":true,"tcp_error":"ECONNREFUSED"}"#)
        #expect(tcp.dstPod == nil && tcp.tcpRetransmit == 3 && tcp.tcpDropReasons == ["NETFILTER_DROP"] && tcp.tcpConnectFailed)
        let standalone = try FlowRecord.parse(line: #"{"kind":"dns","ts_ns":1,"src_ip":"10.0.0.5","dst_ip":"10.0.0.53","dns_query_domain":"x.svc","dns_response_code":"NXDOMAIN"}"#)
        #expect(standalone.srcPod == "10.0.0.5")
    }

    @Test(arguments: ["", "{", "[1]", #"{"ts_ns":1}"#, #"{"kind":"tcp"}"#])
    func badLinesAreClearErrors(line: String) {
        #expect(throws: FlowRecord.ParseError.self) { try FlowRecord.parse(line: Substring(line)) }
    }

    @Test func exemplarsMoveNoSeriesTheirAggregatesDo() throws {
        let exemplar = try FlowRecord.parse(line: #"{"kind":"http","ts_ns":1,"role":"client","src_ip":"10.0.0.2","dst_ip":"10.0.0.3","http_request_uri":"/cart","http_status_code":503,"http_duration":900,"exemplar":"error"}"#)
        let aggregate = try FlowRecord.parse(line: #"{"kind":"http_aggregate","ts_ns":1,"role":"client","src_ip":"10.0.0.2","dst_ip":"10.0.0.3","dst_port":80,"http_request_uri":"/cart","http_status_code":503,"count":7,"http_duration_avg":800,"http_duration_p99":900}"#)
        #expect(exemplar.isExemplar && !aggregate.isExemplar)
        var moved: [(SeriesKey, Double)] = []
        #expect(Attribution.contributions(of: exemplar) { key, value, _ in moved.append((key, value)) } == nil)
        #expect(moved.isEmpty)
        let call = Attribution.contributions(of: aggregate) { key, value, _ in moved.append((key, value)) }
        #expect(call! == ("10.0.0.2", "10.0.0.3"))
        #expect(moved.contains { $0.0 == .pod("10.0.0.3", .httpErrors) && $0.1 == 7 })
    }

    @Test func bothViewsOfAnExchangeBelongToTheServer() {
        var client = FlowRecord(kind: "http", tsNs: 0)
        client.role = "client"
        client.srcPod = "fe"
        client.dstPod = "carts"
        client.httpStatus = 200
        client.httpDurationNs = 1e6
        client.httpURI = "/cart"
        var server = client
        server.role = "server"
        server.srcPod = "carts"
        server.dstPod = "fe"
        for r in [client, server] {
            var keys: [SeriesKey] = []
            let call = Attribution.contributions(of: r) { key, _, _ in keys.append(key) }
            #expect(call! == ("fe", "carts"))
            #expect(keys.allSatisfy { $0.a == "carts" })
            #expect(keys.contains(SeriesKey(.uri, "carts", "/cart", .httpLatencyP99)))
        }
    }

    @Test func anomalyRoundTripsAndBecomesAStreamRecord() throws {
        let a = Anomaly(startNs: 1, endNs: 2, detectedNs: 2, pod: "carts", namespace: "sock-shop", kind: "loss", score: 12.5,
                        uri: "/cart", status: "closed", ranking: [.init(pod: "carts", namespace: "sock-shop", score: 12.5)],
                        evidence: .init(series: ["retransmits z=40.0"], flows: [], dropReasons: ["NETFILTER_DROP": 3],
                                        uris: [], domains: [], alarms: [], features: [1, 2]))
        #expect(try Anomaly.parse(line: Substring(a.jsonLine())) == a)
        #expect(a.jsonLine().contains(#""start_ns":1"#))
        #expect(a.record.kind == "anomaly")
        #expect(a.record["fault_kind"] == .string("loss"))
    }
}

struct EvaluationTests {
    static func anomaly(_ pod: String, _ start: UInt64, _ end: UInt64, kind: String = "loss", ranking: [String]) -> Anomaly {
        Anomaly(startNs: start, endNs: end, detectedNs: start + 2, pod: pod, namespace: "", kind: kind, score: 1, uri: nil,
                status: "closed", ranking: ranking.map { .init(pod: $0, namespace: "", score: 1) },
                evidence: .init(series: [], flows: [], dropReasons: [:], uris: [], domains: [], alarms: [], features: []))
    }

    @Test func figuresFollowTheirDefinitions() {
        let labels = [FaultLabel(startNs: 10, endNs: 20, pod: "carts", namespace: "", kind: "loss"),
                      FaultLabel(startNs: 40, endNs: 50, pod: "user", namespace: "", kind: "delay"),
                      FaultLabel(startNs: 70, endNs: 80, pod: "orders", namespace: "", kind: "dns")]
        let anomalies = [Self.anomaly("carts", 11, 22, ranking: ["carts", "front-end"]),
                         Self.anomaly("front-end", 41, 45, ranking: ["front-end", "orders", "user"]),
                         Self.anomaly("catalogue", 100, 110, ranking: ["catalogue"])]
        let e = Evaluation.score([(anomalies, labels)], intervalNs: 1)
        #expect(e.truePositives == 1 && e.detectedLabels == 1)
        #expect(abs(e.precision - 1.0 / 3) < 1e-9 && abs(e.recall - 1.0 / 3) < 1e-9)
        #expect(abs(e.acAt1 - 1.0 / 3) < 1e-9 && abs(e.acAt3 - 2.0 / 3) < 1e-9)
        // AC@1..5 = 1/3, 1/3, 2/3, 2/3, 2/3.
        #expect(abs(e.avgAt5 - 8.0 / 15) < 1e-9)
        #expect(e.kindAccuracy == 1 && e.medianDelayNs == 3)
    }

    /// Two faults at once on different pods: each is judged by the incident that names it, not by
    /// the one that happens to start first; one anomaly counts once however many faults it overlaps.
    @Test func overlappingFaultsAreEachJudgedByTheIncidentNamingThem() {
        let labels = [FaultLabel(startNs: 10, endNs: 40, pod: "carts", namespace: "", kind: "loss"),
                      FaultLabel(startNs: 20, endNs: 50, pod: "user", namespace: "", kind: "cpu")]
        // The carts incident starts first and ranks user fourth; the user incident names user.
        let anomalies = [Self.anomaly("carts", 11, 41, kind: "loss", ranking: ["carts", "front-end", "orders", "user"]),
                         Self.anomaly("user", 21, 48, kind: "delay", ranking: ["user", "orders"])]
        let e = Evaluation.score([(anomalies, labels)], intervalNs: 1)
        #expect(e.truePositives == 2 && e.detectedLabels == 2 && e.precision == 1 && e.recall == 1)
        #expect(e.acAt1 == 1)
        #expect(e.kindCorrect == 1 && e.kindAccuracy == 0.5)
        // Only the first incident: it is a true positive once; user is found by neither its pod
        // nor its own incident, and ranks fourth in the carts one.
        let one = Evaluation.score([([anomalies[0]], labels)], intervalNs: 1)
        #expect(one.truePositives == 1 && one.detectedLabels == 1 && one.anomalies == 1)
        #expect(one.acAt1 == 0.5 && one.acAt3 == 0.5)
        #expect(one.byKind["cpu"]?.hits == [0, 0, 0, 1, 1])
        #expect(one.missed.count == 1 && one.missed[0].contains("user cpu"))
    }

    /// Per kind: recall over that kind's labels, precision over the anomalies reported as that
    /// kind (right pod, time and kind), AC@k and kind accuracy of that kind's labels.
    @Test func figuresPerKind() {
        let labels = [FaultLabel(startNs: 10, endNs: 20, pod: "carts", namespace: "", kind: "kill"),
                      FaultLabel(startNs: 40, endNs: 50, pod: "user", namespace: "", kind: "kill"),
                      FaultLabel(startNs: 70, endNs: 80, pod: "payment", namespace: "", kind: "partition",
                                 peer: "orders", peerNamespace: "")]
        let anomalies = [Self.anomaly("carts", 11, 19, kind: "kill", ranking: ["carts"]),
                         Self.anomaly("front-end", 41, 49, kind: "kill", ranking: ["front-end", "user"]),
                         // A partition named by its other end counts.
                         Self.anomaly("orders", 71, 79, kind: "reset", ranking: ["orders", "payment"])]
        let e = Evaluation.score([(anomalies, labels)], intervalNs: 1)
        let kill = e.byKind["kill"], partition = e.byKind["partition"], reset = e.byKind["reset"]
        #expect(kill?.labels == 2 && kill?.detected == 1 && kill?.recall == 0.5)
        #expect(kill?.reported == 2 && kill?.reportedCorrect == 1 && kill?.precision == 0.5)
        #expect(kill?.acAt1 == 0.5 && kill?.acAt3 == 1 && kill?.kindAccuracy == 1)
        #expect(partition?.detected == 1 && partition?.recall == 1 && partition?.acAt1 == 1 && partition?.kindAccuracy == 0)
        #expect(reset?.labels == 0 && reset?.reported == 1 && reset?.precision == 0)
        #expect(e.truePositives == 2 && e.falsePositives.count == 1)
    }

    /// A baseline's answers for the same incidents are scored as their own run.
    @Test func baselinesAreScoredFromTheirAlternatives() {
        let labels = [FaultLabel(startNs: 10, endNs: 20, pod: "carts", namespace: "", kind: "loss")]
        var ours = Self.anomaly("carts", 11, 19, ranking: ["carts", "front-end"])
        ours.alternatives["baro"] = Self.anomaly("front-end", 11, 19, ranking: ["front-end", "carts"])
        #expect(Replay.alternatives([ours], ranker: .netobs) == [ours])
        let baro = Evaluation.score([(Replay.alternatives([ours], ranker: .baro), labels)], intervalNs: 1)
        #expect(baro.anomalies == 1 && baro.truePositives == 0 && baro.acAt1 == 0 && baro.acAt3 == 1)
        #expect(Replay.alternatives([ours], ranker: .nsigma).isEmpty)
    }
}
