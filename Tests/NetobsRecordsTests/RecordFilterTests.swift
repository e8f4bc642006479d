import Testing
@testable import NetobsRecords

/// Records as the controller publishes them after the topology join.
enum Sample {
    static func http(_ status: Int, srcNs: String = "shop", srcPod: String = "front-end", dstNs: String = "shop",
                     dstPod: String = "carts-1", service: String = "carts", role: String = "client") -> [UInt8] {
        Array(#"{"kind":"http","ts_ns":1764379815123456789,"node":"n1","pid":7,"comm":"curl","role":"\#(role)","src_ip":"10.0.0.2","src_port":40000,"dst_ip":"10.0.0.3","dst_port":80,"src_ns":"\#(srcNs)","src_pod":"\#(srcPod)","dst_ns":"\#(dstNs)","dst_pod":"\#(dstPod)","dst_service":"\#(service)","http_request_method":"GET","http_request_uri":"/cart?id=1","http_request_version":"1.1","http_status_code":\#(status),"http_duration":2500000}"#.utf8)
    }

    static func dns(_ rcode: String, srcNs: String = "shop", srcPod: String = "front-end") -> [UInt8] {
        Array(#"{"kind":"dns","ts_ns":1,"role":"client","src_ip":"10.0.0.2","src_port":5353,"dst_ip":"10.0.0.10","dst_port":53,"src_ns":"\#(srcNs)","src_pod":"\#(srcPod)","dst_ns":"kube-system","dst_pod":"coredns-1","dst_service":"kube-dns","dns_transaction_id":7,"dns_query_domain":"carts.shop.svc","dns_query_type":"A","dns_response_code":"\#(rcode)","dns_duration":800000}"#.utf8)
    }

    static func tcp(srcNs: String = "shop", srcPod: String = "orders", dstNs: String = "db", dstPod: String = "mysql-0") -> [UInt8] {
        Array(#"{"kind":"tcp","ts_ns":1,"role":"client","src_ip":"10.0.0.4","src_port":41000,"dst_ip":"10.0.0.5","dst_port":3306,"src_ns":"\#(srcNs)","src_pod":"\#(srcPod)","dst_ns":"\#(dstNs)","dst_pod":"\#(dstPod)","tcp_old_state":"ESTABLISHED","tcp_new_state":"ESTABLISHED","tcp_rx_bytes":2048,"tcp_tx_bytes":1000,"tcp_drop":1,"tcp_tlp":2,"tcp_retransmit":3,"tcp_rtt":150000,"tcp_drop_reasons":["NETFILTER_DROP","X\"]"]}"#.utf8)
    }

    static let anomaly = Array(#"{"kind":"anomaly","start_ns":1,"end_ns":2,"namespace":"shop","pod":"carts-1","fault":"latency","score":3.5}"#.utf8)
}

@Suite("RecordView: one pass over a JSON line")
struct RecordViewTests {
    @Test func readsTheFieldsConsumersUse() throws {
        let v = try #require(RecordView(json: Sample.tcp()))
        #expect(v.kind == "tcp" && v.role == "client")
        #expect(v.srcIP == "10.0.0.4" && v.srcPort == 41000 && v.dstIP == "10.0.0.5" && v.dstPort == 3306)
        #expect(v.srcNamespace == "shop" && v.srcPod == "orders" && v.dstNamespace == "db" && v.dstPod == "mysql-0")
        #expect(v.tcpTxBytes == 1000 && v.tcpRxBytes == 2048 && v.tcpDrop == 1 && v.tcpTLP == 2 && v.tcpRetransmit == 3)
        #expect(v.tcpRTT == 150000 && v.tcpNewState == "ESTABLISHED")
        let h = try #require(RecordView(json: Sample.http(503)))
        #expect(h.httpStatusCode == 503 && h.httpDuration == 2_500_000 && h.httpURI == "/cart?id=1" && h.dstService == "carts")
        #expect(h.tsNs == 1764379815123456789)
    }

    @Test("a view of the filter fields only selects exactly what the full view selects")
    func filterFieldsOnly() throws {
        let records = [Sample.http(503), Sample.http(200, srcNs: "db", srcPod: "orders"), Sample.dns("NXDOMAIN"),
                       Sample.tcp(), Sample.anomaly]
        let filters = [RecordFilter(namespace: "shop"), RecordFilter(pod: "db/mysql-0"), RecordFilter(service: "shop/carts"),
                       RecordFilter(kind: "dns"), RecordFilter(protocol: "tcp"), RecordFilter(status: "5xx"),
                       RecordFilter(status: "nxdomain"), RecordFilter(anomaliesOnly: true), RecordFilter(pod: "carts-1")]
        for record in records {
            let full = try #require(RecordView(json: record))
            let lean = try #require(RecordView(of: record))
            for f in filters {
                let own = try #require(RecordView(f.fieldsRead, of: record))
                #expect(f.matches(lean) == f.matches(full), "\(f) on \(String(decoding: record, as: UTF8.self))")
                #expect(f.matches(own) == f.matches(full), "\(f), its own fields, on \(String(decoding: record, as: UTF8.self))")
            }
        }
        let lean = try #require(RecordView(of: Sample.http(503)))
        #expect(lean.comm.isEmpty && lean.role.isEmpty && lean.httpDuration == nil && lean.dnsDuration == nil)  // no filter reads them
        #expect(lean.kind == "http" && lean.srcPod == "front-end" && lean.dstService == "carts" && lean.httpStatusCode == 503)
        let namespaces = try #require(RecordView(.namespaces, of: Sample.http(503)))
        #expect(namespaces.srcNamespace == "shop" && namespaces.kind.isEmpty && namespaces.srcPod.isEmpty && namespaces.httpStatusCode == nil)
        #expect(RecordView(of: Array("not json".utf8)) == nil)
    }

    @Test func unescapesStringsAndSkipsNestedValues() throws {
        let line = Array(#"{"kind":"http","nested":{"a":[1,{"b":"}"}]},"ok":true,"none":null,"http_request_uri":"/a\"b\\c\u00e9\n","src_pod":"p"}"#.utf8)
        let v = try #require(RecordView(json: line))
        #expect(v.httpURI == "/a\"b\\cé\n")
        #expect(v.srcPod == "p")
    }

    @Test func refusesWhatIsNotAFlatJSONObject() {
        for bad in ["", "[]", "{", #"{"kind":"tcp""#, #"{"kind" "tcp"}"#, #"{"kind":"tcp",}"#, #"{"a":tru"#, "\u{01}binary"] {
            #expect(RecordView(json: Array(bad.utf8)) == nil, "\(bad)")
        }
        #expect(RecordView(json: Array("{}".utf8)) == RecordView())
    }

    @Test func derivedKindsKeepTheirProtocol() {
        var v = RecordView()
        v.kind = "http_aggregate"
        #expect(v.applicationProtocol == "http" && v.transportProtocol == "tcp")
        v.kind = "dns"
        #expect(v.transportProtocol == "udp")
        v.kind = "tcp_latency"
        #expect(v.applicationProtocol == "tcp")
    }
}

@Suite("RecordFilter: what a consumer selects")
struct RecordFilterTests {
    func view(_ bytes: [UInt8]) -> RecordView { RecordView(json: bytes)! }

    @Test func emptyFilterSelectsEverything() {
        #expect(RecordFilter().selectsAll)
        for r in [Sample.http(200), Sample.dns("NOERROR"), Sample.tcp(), Sample.anomaly] { #expect(RecordFilter().matches(view(r))) }
    }

    @Test func namespaceMatchesEitherSide() {
        let f = RecordFilter(namespace: "db")
        #expect(f.matches(view(Sample.tcp())))                       // destination
        #expect(f.matches(view(Sample.tcp(srcNs: "db", dstNs: "x")))) // source
        #expect(!f.matches(view(Sample.http(200))))
        #expect(RecordFilter(namespace: "shop").matches(view(Sample.anomaly)))
    }

    @Test func podByNameOrNamespacedName() {
        #expect(RecordFilter(pod: "carts-1").matches(view(Sample.http(200))))
        #expect(RecordFilter(pod: "front-end").matches(view(Sample.http(200))))
        #expect(RecordFilter(pod: "shop/carts-1").matches(view(Sample.http(200))))
        #expect(!RecordFilter(pod: "other/carts-1").matches(view(Sample.http(200))))
        #expect(!RecordFilter(pod: "carts").matches(view(Sample.http(200))))
        #expect(RecordFilter(pod: "shop/carts-1").matches(view(Sample.anomaly)))
    }

    @Test func serviceIsTheDestinationService() {
        #expect(RecordFilter(service: "carts").matches(view(Sample.http(200))))
        #expect(RecordFilter(service: "shop/carts").matches(view(Sample.http(200))))
        #expect(!RecordFilter(service: "kube-system/carts").matches(view(Sample.http(200))))
        #expect(!RecordFilter(service: "carts").matches(view(Sample.tcp())))
    }

    @Test func kindAndProtocol() {
        #expect(RecordFilter(kind: "http").matches(view(Sample.http(200))))
        #expect(!RecordFilter(kind: "http").matches(view(Sample.tcp())))
        #expect(RecordFilter(protocol: "tcp").matches(view(Sample.http(200))))  // http rides on tcp
        #expect(RecordFilter(protocol: "tcp").matches(view(Sample.tcp())))
        #expect(!RecordFilter(protocol: "tcp").matches(view(Sample.dns("NOERROR"))))
        #expect(RecordFilter(protocol: "udp").matches(view(Sample.dns("NOERROR"))))
        #expect(!RecordFilter(protocol: "http").matches(view(Sample.tcp())))
    }

    @Test func statusCodeClassAndRcode() {
        #expect(RecordFilter(status: "503").matches(view(Sample.http(503))))
        #expect(!RecordFilter(status: "503").matches(view(Sample.http(502))))
        #expect(RecordFilter(status: "5xx").matches(view(Sample.http(502))))
        #expect(RecordFilter(status: "5XX").matches(view(Sample.http(599))))
        #expect(!RecordFilter(status: "5xx").matches(view(Sample.http(404))))
        #expect(RecordFilter(status: "nxdomain").matches(view(Sample.dns("NXDOMAIN"))))
        #expect(!RecordFilter(status: "NXDOMAIN").matches(view(Sample.dns("NOERROR"))))
        #expect(!RecordFilter(status: "NXDOMAIN").matches(view(Sample.http(503))))
        #expect(!RecordFilter(status: "5xx").matches(view(Sample.tcp())))
        var f = RecordFilter()
        f.status = "4xx"
        #expect(f.matches(view(Sample.http(404))) && !f.matches(view(Sample.http(200))))
    }

    @Test func anomaliesOnlyAndCombinations() {
        #expect(RecordFilter(anomaliesOnly: true).matches(view(Sample.anomaly)))
        #expect(!RecordFilter(anomaliesOnly: true).matches(view(Sample.http(503))))
        let f = RecordFilter(namespace: "shop", kind: "http", status: "5xx")
        #expect(f.matches(view(Sample.http(500))))
        #expect(!f.matches(view(Sample.http(200))))
        #expect(!f.matches(view(Sample.http(500, srcNs: "a", dstNs: "b"))))
        #expect(!f.selectsAll)
    }
}

@Suite("RecordTable: tail's table")
struct RecordTableTests {
    @Test func alignedColumnsWithPodsAndKeyMetric() throws {
        let t = RecordTable(colour: false)
        let http = t.line(RecordView(json: Sample.http(503))!)
        #expect(http == "01:30:15.123 http     shop/front-end:40000               → shop/carts-1:80                    GET /cart?id=1 503 2.5ms")
        let tcp = t.line(RecordView(json: Sample.tcp())!)
        #expect(tcp.hasSuffix("tx 1000B rx 2.0KiB retrans 3 drop 1 rtt 150.0µs ESTABLISHED"))
        let dns = t.line(RecordView(json: Sample.dns("NXDOMAIN"))!)
        #expect(dns.hasSuffix("A carts.shop.svc NXDOMAIN 800.0µs"))
        // The arrow sits in the same column on every line.
        let columns = [http, tcp, dns].map { line in line.distance(from: line.startIndex, to: line.firstIndex(of: "→")!) }
        #expect(Set(columns).count == 1)
        #expect(t.header.hasPrefix("TIME         KIND     SOURCE"))
    }

    @Test func unjoinedRecordsShowAddresses() {
        var v = RecordView()
        v.kind = "udp"
        v.srcIP = "fd00::2"
        v.srcPort = 5000
        v.dstIP = "10.0.0.9"
        v.dstPort = 53
        v.udpTxBytes = 100
        let line = RecordTable(colour: false).line(v)
        #expect(line.contains("[fd00::2]:5000") && line.contains("10.0.0.9:53") && line.hasSuffix("tx 100B rx 0B"))
    }

    @Test func colourOnlyWhenAsked() {
        let v = RecordView(json: Sample.http(503))!
        #expect(!RecordTable(colour: false).line(v).contains("\u{1B}["))
        let coloured = RecordTable(colour: true).line(v)
        #expect(coloured.contains("\u{1B}[31m503\u{1B}[0m"))   // 5xx in red
        #expect(coloured.contains("\u{1B}[32mhttp"))            // kind coloured
    }

    @Test func units() {
        #expect(RecordTable.bytes(1023) == "1023B")
        #expect(RecordTable.bytes(1536) == "1.5KiB")
        #expect(RecordTable.bytes(5 * 1024 * 1024) == "5.0MiB")
        #expect(RecordTable.duration(999) == "999ns")
        #expect(RecordTable.duration(1_234_567) == "1.2ms")
        #expect(RecordTable.duration(2_000_000_000) == "2.0s")
        #expect(TimeFormat.time.format(0, nowNs: 0) == "-")
    }
}

/// Traffic cannot write escape sequences to the operator's terminal through `netobs tail`.
@Test func tailTableEscapesControlCharactersFromTraffic() throws {
    let json = #"{"kind":"http","http_request_method":"GET","http_request_uri":"/a\u001b]0;owned\u0007\u001b[2J/b","http_status_code":200,"dst_ip":"10.0.0.1\u009b"}"#
    let view = try #require(RecordView(json: Array(json.utf8)))
    let line = RecordTable(colour: false).line(view)
    #expect(!line.unicodeScalars.contains { $0.value < 0x20 || (0x7F...0x9F).contains($0.value) }, "\(line)")
    #expect(line.contains(#"/a\x1B]0;owned\x07\x1B[2J/b"#))
    #expect(line.contains(#"10.0.0.1\x9B"#))
    #expect(TerminalText.escape("plain /ok ü") == "plain /ok ü")
}
