import Foundation
import Testing
@testable import NetobsHTTP
import NetobsRecords

enum Records {
    static func http(_ status: Int, ns: String = "shop", pod: String = "front-end", dstNs: String = "shop",
                     dstPod: String = "carts-1", service: String = "carts", role: String = "client",
                     durationNs: Int = 2_500_000) -> [UInt8] {
        Array(#"{"kind":"http","ts_ns":1,"role":"\#(role)","src_ip":"10.0.0.2","src_port":40000,"dst_ip":"10.0.0.3","dst_port":80,"src_ns":"\#(escaped(ns))","src_pod":"\#(pod)","dst_ns":"\#(dstNs)","dst_pod":"\#(dstPod)","dst_service":"\#(service)","http_request_method":"GET","http_request_uri":"/cart","http_status_code":\#(status),"http_duration":\#(durationNs)}"#.utf8)
    }

    static func dns(_ rcode: String, ns: String = "shop", pod: String = "front-end") -> [UInt8] {
        Array(#"{"kind":"dns","ts_ns":1,"role":"client","src_ns":"\#(ns)","src_pod":"\#(pod)","dst_ns":"kube-system","dst_pod":"coredns-1","dst_service":"kube-dns","dns_query_domain":"carts","dns_query_type":"A","dns_response_code":"\#(escaped(rcode))","dns_duration":800000}"#.utf8)
    }

    static func tcp(ns: String = "shop", pod: String = "orders", dstNs: String = "db", dstPod: String = "mysql-0",
                    tx: Int = 1000, rx: Int = 2048) -> [UInt8] {
        Array(#"{"kind":"tcp","ts_ns":1,"role":"client","src_ns":"\#(ns)","src_pod":"\#(pod)","dst_ns":"\#(dstNs)","dst_pod":"\#(dstPod)","tcp_rx_bytes":\#(rx),"tcp_tx_bytes":\#(tx),"tcp_drop":1,"tcp_tlp":2,"tcp_retransmit":3,"tcp_drop_reasons":["X"]}"#.utf8)
    }

    /// A JSON string's inside.
    static func escaped(_ s: String) -> String {
        s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            .replacingOccurrences(of: "\n", with: "\\n")
    }

    static func views(_ records: [[UInt8]]) -> [RecordView] { records.map { RecordView(json: $0)! } }
}

/// `promtool check metrics` (Debian's prometheus package): exit status and its complaints.
func promtoolCheck(_ text: String) async throws -> (status: Int32, output: String) {
    let (status, out, err) = try await Child.run("/usr/bin/promtool", ["check", "metrics"], stdin: text)
    return (status, out + err)
}

@Suite("metrics: per-pod and per-edge tables, bounded")
struct MetricsTablesTests {
    @Test func countsPerPodAndPerEdge() {
        var t = MetricsTables()
        for v in Records.views([Records.tcp(), Records.tcp(tx: 10, rx: 20), Records.http(200), Records.http(503),
                                Records.http(503, role: "server", durationNs: 30_000_000), Records.dns("NXDOMAIN"),
                                Records.dns("NOERROR")]) { t.add(v) }
        let orders = t.pods[.init(namespace: "shop", pod: "orders")]!
        #expect(orders.tcpTxBytes == 1010 && orders.tcpRxBytes == 2068)
        #expect(orders.tcpRetransmits == 6 && orders.tcpDrops == 2 && orders.tcpTLP == 4)
        let fe = t.pods[.init(namespace: "shop", pod: "front-end")]!
        #expect(fe.httpRequests == [.init(role: "client", value: "2xx"): 1, .init(role: "client", value: "5xx"): 1,
                                    .init(role: "server", value: "5xx"): 1])
        #expect(fe.httpDuration["client"]?.count == 2 && fe.httpDuration["server"]?.sumNs == 30_000_000)
        #expect(fe.dnsRequests == [.init(role: "client", value: "NXDOMAIN"): 1, .init(role: "client", value: "NOERROR"): 1])
        // Client-reported edge front-end -> carts-1 (service carts); the server's report is the reverse view.
        let client = MetricsTables.EdgeKey(reporter: "client", srcNamespace: "shop", srcPod: "front-end",
                                           dstNamespace: "shop", dstPod: "carts-1", dstService: "carts")
        #expect(t.edges[client]?.requests == 2)
        let server = MetricsTables.EdgeKey(reporter: "server", srcNamespace: "shop", srcPod: "carts-1",
                                           dstNamespace: "shop", dstPod: "front-end", dstService: "unknown")
        #expect(t.edges[server]?.requests == 1)
        let db = MetricsTables.EdgeKey(reporter: "client", srcNamespace: "shop", srcPod: "orders",
                                       dstNamespace: "db", dstPod: "mysql-0", dstService: "unknown")
        #expect(t.edges[db] == .init(requests: 0, bytes: 3078))
        #expect(t.records == 7)
    }

    @Test func aggregatesCountTheirExchangesAndExemplarsNothing() {
        var t = MetricsTables()
        let aggregate = Array(#"{"kind":"http_aggregate","ts_ns":1,"role":"client","src_ns":"shop","src_pod":"front-end","dst_ns":"shop","dst_pod":"carts-1","dst_service":"carts","http_request_uri":"/cart","http_status_code":200,"count":5,"http_duration_sum":15000000}"#.utf8)
        let exemplar = Array(#"{"kind":"http","ts_ns":1,"role":"client","src_ns":"shop","src_pod":"front-end","dst_ns":"shop","dst_pod":"carts-1","dst_service":"carts","http_request_uri":"/cart","http_status_code":200,"http_duration":3000000,"exemplar":"sample"}"#.utf8)
        let dns = Array(#"{"kind":"dns_aggregate","ts_ns":1,"role":"client","src_ns":"shop","src_pod":"front-end","dns_query_domain":"x","dns_response_code":"TIMEOUT","count":2,"dns_duration_sum":10000000000}"#.utf8)
        for v in Records.views([aggregate, exemplar, dns]) { t.add(v) }
        let fe = t.pods[.init(namespace: "shop", pod: "front-end")]!
        #expect(fe.httpRequests == [.init(role: "client", value: "2xx"): 5])
        #expect(fe.httpDuration["client"]?.count == 5 && fe.httpDuration["client"]?.sumNs == 15_000_000)
        #expect(fe.dnsRequests == [.init(role: "client", value: "TIMEOUT"): 2])
        let edge = MetricsTables.EdgeKey(reporter: "client", srcNamespace: "shop", srcPod: "front-end",
                                         dstNamespace: "shop", dstPod: "carts-1", dstService: "carts")
        #expect(t.edges[edge]?.requests == 5)
    }

    @Test func histogramBuckets() {
        var h = DurationHistogram()
        h.observe(ns: 500_000)        // exactly on the first bound: in it
        h.observe(ns: 500_001)
        h.observe(ns: 20_000_000_000) // past the last bound: +Inf
        #expect(h.buckets[0] == 1 && h.buckets[1] == 1 && h.buckets.last == 1 && h.count == 3)
    }

    @Test func capsFoldIntoOtherAndCount() {
        var t = MetricsTables(limits: .init(maxPods: 3, maxEdges: 2))
        for i in 0..<10 { t.add(RecordView(json: Records.http(200, pod: "p\(i)", dstPod: "d\(i)"))!) }
        #expect(t.pods.count == 4)   // 3 pods + "other"
        #expect(t.pods[.init(namespace: "other", pod: "other")]?.httpRequests.values.reduce(0, +) == 7)
        #expect(t.overflowRecords.pods == 7)
        #expect(t.edges.count == 3)  // 2 edges + "other"
        #expect(t.overflowRecords.edges == 8)
        // Known keys keep counting after the cap.
        t.add(RecordView(json: Records.http(200, pod: "p0", dstPod: "d0"))!)
        #expect(t.pods[.init(namespace: "shop", pod: "p0")]?.httpRequests.values.reduce(0, +) == 2)
    }

    @Test func labelValuesFromRecordsAreBounded() {
        var t = MetricsTables()
        t.add(RecordView(json: Records.http(999))!)
        t.add(RecordView(json: Records.dns("WHATEVER\"{}"))!)
        t.add(RecordView(json: Records.http(200, ns: "", pod: "", role: "sideways"))!)
        let fe = t.pods[.init(namespace: "shop", pod: "front-end")]!
        #expect(fe.httpRequests.keys.map(\.value) == ["other"])
        #expect(fe.dnsRequests.keys.map(\.value) == ["other"])
        #expect(t.pods[.init(namespace: "unknown", pod: "unknown")]?.httpRequests.keys.first?.role == "unknown")
    }
}

@Suite("metrics: Prometheus exposition")
struct ExpositionTests {
    func exposition(_ records: [[UInt8]], limits: MetricsStore.Limits = .init()) -> String {
        let store = MetricsStore(limits: limits)
        store.add(Records.views(records))
        var own = ControllerSelfMetrics()
        own.storedRecords = 12
        own.subscribers = 3
        return store.exposition(own)
    }

    @Test func samplesAreWhereExpected() {
        let text = exposition([Records.http(503), Records.http(503), Records.tcp(), Records.dns("NXDOMAIN")])
        #expect(text.contains(#"netobs_pod_http_requests_total{exported_namespace="shop",exported_pod="front-end",role="client",status_class="5xx"} 2"#))
        #expect(text.contains(#"netobs_pod_http_duration_seconds_bucket{exported_namespace="shop",exported_pod="front-end",role="client",le="0.0025"} 2"#))
        #expect(text.contains(#"netobs_pod_http_duration_seconds_bucket{exported_namespace="shop",exported_pod="front-end",role="client",le="0.001"} 0"#))
        #expect(text.contains(#"netobs_pod_http_duration_seconds_bucket{exported_namespace="shop",exported_pod="front-end",role="client",le="+Inf"} 2"#))
        #expect(text.contains(#"netobs_pod_http_duration_seconds_sum{exported_namespace="shop",exported_pod="front-end",role="client"} 0.005"#))
        #expect(text.contains(#"netobs_pod_tcp_retransmits_total{exported_namespace="shop",exported_pod="orders"} 3"#))
        #expect(text.contains(#"netobs_pod_dns_requests_total{exported_namespace="shop",exported_pod="front-end",role="client",rcode="NXDOMAIN"} 1"#))
        #expect(text.contains(#"netobs_edge_bytes_total{reporter="client",src_namespace="shop",src_pod="orders",dst_namespace="db",dst_pod="mysql-0",dst_service="unknown"} 3048"#))
        #expect(text.contains("netobs_controller_records_ingested_total 12\n"))
        #expect(text.contains("netobs_stream_subscribers 3\n"))
    }

    @Test func labelValuesAreEscaped() {
        let text = exposition([Records.http(200, ns: #"a"b\c"#)])
        #expect(text.contains(#"exported_namespace="a\"b\\c""#))
    }

    @Test("promtool check metrics accepts the exposition, empty, full and overflowing")
    func promtoolAccepts() async throws {
        let cases = [
            exposition([]),
            exposition([Records.http(200), Records.http(404, role: "server"), Records.http(503), Records.tcp(),
                        Records.dns("NOERROR"), Records.dns("SERVFAIL"), Records.http(200, ns: #"we"ird\n"#)]),
            exposition((0..<50).map { Records.http(200, pod: "p\($0)", dstPod: "d\($0)") }, limits: .init(maxPods: 5, maxEdges: 5)),
        ]
        for text in cases {
            let (status, output) = try await promtoolCheck(text)
            #expect(status == 0, "promtool: \(output)")
            #expect(output.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty, "promtool lint: \(output)")
        }
        // The check can fail: a counter without _total is refused by its linter.
        let (status, output) = try await promtoolCheck("# HELP bad_counter x\n# TYPE bad_counter counter\nbad_counter 1\n")
        #expect(status != 0 && output.contains("_total"))
    }
}
