import Testing
@testable import NetobsDashboard

@Suite struct StaticDashboardDataTests {
    let carts = SyntheticCluster.pod("carts")
    let frontEnd = SyntheticCluster.pod("front-end")

    @Test func countsWhatItTakesAndWhatItRejects() async {
        let data = await SyntheticCluster.data()
        await data.ingest(jsonLines: """
            not json
            {"kind":"loss","ts_ns":1,"reason":"tcp_flow_table_full","count":2}
            {"kind":"http","ts_ns":"soon"}
            {"kind":"anomaly","start_ns":1,"end_ns":2,"pod":"carts","score":1}

            """)
        let counts = await data.counts
        #expect(counts.records == SyntheticCluster.lines.count - 1)
        #expect(counts.anomalies == 1)
        #expect(counts.ignored == 1)
        #expect(counts.rejected == 3)
        #expect(counts.lastRejection == "anomaly record without fault")
    }

    @Test func readsAnomaliesJSONLOfTheContract() async throws {
        let data = StaticDashboardData()
        await data.ingest(anomaliesJSONL: """
            {"start_ns":5,"end_ns":9,"pod":"front-end","namespace":"sock-shop","kind":"delay","score":2.5,"uri":"/detail/808a2de1","evidence":"p99 150 ms vs 9 ms"}
            {"start_ns":5,"pod":"x","kind":"dns"}
            """)
        let a = try #require(await data.anomalies().first)
        #expect(a == Anomaly(pod: frontEnd, startNs: 5, endNs: 9, kind: "delay", score: 2.5, uri: "/detail/808a2de1",
                             evidence: ["p99 150 ms vs 9 ms"]))
        #expect(await data.counts.rejected == 1)
        #expect(await data.counts.lastRejection == "anomaly record without end_ns")
    }

    @Test func aDismissedAnomalyIsTakenBack() async {
        let data = StaticDashboardData()
        await data.ingest(jsonLines: """
            {"kind":"anomaly","start_ns":5,"end_ns":6,"pod":"load-generator","fault":"delay","status":"open"}
            {"kind":"anomaly","start_ns":20,"end_ns":21,"pod":"carts","fault":"loss","status":"open"}
            {"kind":"anomaly","start_ns":5,"end_ns":8,"pod":"front-end","fault":"delay","status":"dismissed"}

            """)
        #expect(await data.anomalies().map(\.pod.name) == ["carts"])
        #expect(await data.counts.anomalies == 1)
    }

    @Test func edgesCountEachExchangeOnceAndColourByHealth() async throws {
        let edges = await SyntheticCluster.data().serviceEdges()
        #expect(edges.count == 7)
        let toCarts = try #require(edges.first { $0.source == frontEnd && $0.destination == carts })
        #expect(toCarts.requests == 240) // client-side records only, not both sockets
        #expect(toCarts.errorRate == 15.0 / 240.0)
        #expect(toCarts.p99LatencyNs == 201_000_000)
        #expect(toCarts.retransmits == 45)
        #expect(toCarts.health == .failing)
        let toCatalogue = try #require(edges.first { $0.destination == SyntheticCluster.pod("catalogue") })
        #expect(toCatalogue.errorRate == 0)
        #expect(toCatalogue.p99LatencyNs == 9_000_000)
        #expect(toCatalogue.health == .healthy)
        let fromOrders = try #require(edges.first { $0.source == SyntheticCluster.pod("orders") && $0.destination == carts })
        #expect(fromOrders.errorRate == 0)
        #expect(fromOrders.retransmits == 45)
        #expect(fromOrders.health == .degraded)
        let toDB = try #require(edges.first { $0.destination == SyntheticCluster.pod("carts-db") })
        #expect(toDB.source == carts)
        #expect(toDB.requests == 0)
        #expect(toDB.p99LatencyNs == nil)
    }

    @Test func healthThresholds() {
        let t = HealthThresholds()
        #expect(t.health(errorRate: 0, p99Ns: 1_000_000, retransmits: 0, drops: 0, connectionErrors: 0) == .healthy)
        #expect(t.health(errorRate: 0, p99Ns: nil, retransmits: 1, drops: 0, connectionErrors: 0) == .degraded)
        #expect(t.health(errorRate: 0, p99Ns: 600_000_000, retransmits: 0, drops: 0, connectionErrors: 0) == .degraded)
        #expect(t.health(errorRate: 0.049, p99Ns: nil, retransmits: 0, drops: 0, connectionErrors: 0) == .degraded)
        #expect(t.health(errorRate: 0.05, p99Ns: nil, retransmits: 0, drops: 0, connectionErrors: 0) == .failing)
        #expect(t.health(errorRate: 0, p99Ns: nil, retransmits: 0, drops: 0, connectionErrors: 1) == .failing)
    }

    @Test func podSummaries() async throws {
        let pods = await SyntheticCluster.data().pods()
        #expect(pods.map(\.pod.name) == ["carts", "carts-db", "catalogue", "front-end", "orders", "payment", "shipping"])
        let c = try #require(pods.first { $0.pod == carts })
        #expect(c.requests == 480)
        #expect(c.httpErrors == 15)
        #expect(c.retransmits == 90)
        #expect(c.anomalies == 1)
    }

    @Test func podSeriesPutEachRecordInItsBucket() async throws {
        let s = try #require(await SyntheticCluster.data().podSeries(carts))
        #expect(s.grid == SeriesGrid(startNs: SyntheticCluster.startNs, bucketNs: 1_000_000_000, count: 60))
        func values(_ m: PodMetric) -> [Double?] { s.series.first { $0.metric == m }!.values }
        #expect(values(.retransmits)[29] == 0)
        #expect(values(.retransmits)[30] == 6)
        #expect(values(.httpErrors)[30] == 1)
        #expect(values(.httpLatencyP99)[30] == 201)
        #expect(values(.httpLatencyP50)[10] == 7)
        let rtt = try #require(values(.rtt)[30])
        #expect(abs(rtt - (40 + 40 + 0.15) / 3) < 1e-9)
        #expect(s.anomalies.map(\.kind) == ["loss"])
        #expect(s.anomalies.first?.evidence == ["flows: front-end -> carts, orders -> carts", "retransmits: 48 vs 0 before"])
        // A pod that serves no HTTP has no latency points, and counts only where it was seen.
        let db = try #require(await SyntheticCluster.data().podSeries(SyntheticCluster.pod("carts-db")))
        #expect(db.series.first { $0.metric == .httpLatencyP99 }!.values.allSatisfy { $0 == nil })
        #expect(db.series.first { $0.metric == .retransmits }!.values.allSatisfy { $0 == 0 })
    }

    @Test func unknownPodHasNoSeries() async {
        let data = await SyntheticCluster.data()
        #expect(await data.podSeries(PodID(namespace: "x", name: "nobody")) == nil)
        #expect(await data.uriLatency(PodID(namespace: "x", name: "nobody")) == nil)
    }

    @Test func uriLatencyBusiestFirst() async throws {
        let u = try #require(await SyntheticCluster.data().uriLatency(carts))
        #expect(u.uris.map(\.uri) == ["/cart", "/cart/items"])
        let cart = u.uris[0]
        #expect(cart.requests == 240)
        #expect(cart.errors == 15)
        #expect(cart.p99Ns == 201_000_000)
        #expect(cart.maxNs == 201_000_000)
        #expect(cart.p99Ms[30] == 201)
        #expect(cart.p99Ms[0] == 9)
        #expect(u.uris[1].errors == 0)
        #expect(u.uris[1].p99Ns == 9_000_000)
    }

    @Test func exemplarsAreLeftToTheirAggregates() throws {
        let exemplar = try RecordLine.decode(#"{"kind":"http","ts_ns":1,"role":"client","src_pod":"a","dst_pod":"b","http_request_uri":"/x","http_status_code":503,"http_duration":5,"exemplar":"error"}"#)
        #expect(Observation(exemplar) == nil)
        let aggregate = try RecordLine.decode(#"{"kind":"http_aggregate","ts_ns":1,"role":"client","src_pod":"a","dst_pod":"b","http_request_uri":"/x","http_status_code":503,"count":3,"http_duration_hist_log2_us":[3]}"#)
        #expect(Observation(aggregate)?.http?.count == 3)
    }

    @Test func aggregateRecordsCountTheirExchanges() {
        let samples = Observation.samples(histogramLog2Us: [0, 0, 3, 1], count: 4, average: 0)
        // bucket 2: [4, 8) µs -> 6 µs; bucket 3: [8, 16) µs -> 12 µs.
        #expect(samples == [LatencySample(ns: 6_000, weight: 3), LatencySample(ns: 12_000, weight: 1)])
        #expect(Observation.samples(histogramLog2Us: nil, count: 5, average: 700) == [LatencySample(ns: 700, weight: 5)])
        #expect(Quantile.of(samples, 0.5) == 6_000)
        #expect(Quantile.of(samples, 0.99) == 12_000)
        #expect(Quantile.of([], 0.5) == nil)
    }

    @Test func gridPicksNiceBucketsAndAligns() {
        let g = DashboardAggregation.grid(firstNs: 10_500_000_000, lastNs: 1_000_000_000_000,
                                          minBucketNs: 1_000_000_000, maxBuckets: 150)
        #expect(g.bucketNs == 10_000_000_000)
        #expect(g.startNs == 10_000_000_000)
        #expect(g.index(of: 1_000_000_000_000) == g.count - 1)
        #expect(g.index(of: 9_999_999_999) == nil)
    }

    @Test func serverRoleRecordsNameTheServerAsLocal() throws {
        let line = #"{"kind":"http","ts_ns":5,"role":"server","src_pod":"b","src_ns":"n","dst_pod":"a","dst_ns":"n","http_status_code":200,"http_duration":3}"#
        let o = try #require(Observation(try RecordLine.decode(line)))
        #expect(o.client == PodID(namespace: "n", name: "a"))
        #expect(o.server == PodID(namespace: "n", name: "b"))
        #expect(o.side == .server)
    }
}
