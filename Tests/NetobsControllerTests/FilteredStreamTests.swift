import Foundation
import Testing
import NetobsAgentLink
import NetobsController
import NetobsRecords
import NetobsWire
@testable import NetobsMain

/// Joined records as the controller publishes them.
private func joined(_ kind: String, ns: String, pod: String, dstNs: String = "shop", dstPod: String = "carts-1",
                    service: String = "carts", extra: String, i: Int) -> [UInt8] {
    Array(#"{"kind":"\#(kind)","ts_ns":\#(1_764_379_815_000_000_000 + i),"i":\#(i),"role":"client","src_ip":"10.0.0.2","src_port":40000,"dst_ip":"10.0.0.3","dst_port":80,"src_ns":"\#(ns)","src_pod":"\#(pod)","dst_ns":"\#(dstNs)","dst_pod":"\#(dstPod)","dst_service":"\#(service)",\#(extra)}"#.utf8)
}

/// A mixed stream: http with several statuses, dns, tcp, across namespaces.
private func mixedRecords(batch: Int) -> [[UInt8]] {
    var out: [[UInt8]] = []
    for j in 0..<12 {
        let i = batch * 100 + j
        let ns = ["shop", "payments", "db"][j % 3]
        switch j % 4 {
        case 0: out.append(joined("http", ns: ns, pod: "front-\(j % 3)", extra: #""http_request_method":"GET","http_request_uri":"/x","http_status_code":\#([200, 503, 404][j % 3]),"http_duration":1000"#, i: i))
        case 1: out.append(joined("dns", ns: ns, pod: "front-\(j % 3)", dstNs: "kube-system", dstPod: "coredns", service: "kube-dns", extra: #""dns_query_domain":"a","dns_query_type":"A","dns_response_code":"\#(j % 3 == 0 ? "NXDOMAIN" : "NOERROR")","dns_duration":10"#, i: i))
        case 2: out.append(joined("tcp", ns: ns, pod: "orders", dstNs: "db", dstPod: "mysql-0", service: "", extra: #""tcp_tx_bytes":10,"tcp_rx_bytes":20"#, i: i))
        default: out.append(joined("udp", ns: ns, pod: "orders", extra: #""udp_tx_bytes":5,"udp_rx_bytes":6"#, i: i))
        }
    }
    return out
}

@Suite("consumers: filtered subscriptions over the binary protocol", .serialized)
struct FilteredStreamTests {
    let pki: PKI
    init() throws { pki = try PKI() }

    @Test("each consumer gets exactly the records its filter selects, through real TLS from an agent's uplink")
    func exactlyTheMatchingRecords() async throws {
        let controller = try await startController(pki, data: temporaryDirectory("data"))
        let filters = [
            Subscribe(namespace: "shop", kind: "http"),
            Subscribe(protocol: "udp", status: "NXDOMAIN"),
            Subscribe(service: "carts", status: "5xx"),
            Subscribe(pod: "db/orders"),
            Subscribe(),
        ]
        var consumers: [(ConsumerStream, LogLines)] = []
        for filter in filters {
            let got = LogLines()
            let stream = ConsumerStream(endpoint: ControllerEndpoint(host: "127.0.0.1", port: controller.port,
                                                                     tls: try pki.clientContext(.consumer)),
                                        filter: filter, log: { _ in },
                                        onBatch: { b in for r in b.records { got.add(String(decoding: r, as: UTF8.self)) } })
            stream.start()
            consumers.append((stream, got))
        }
        #expect(await eventually { controller.hub.count == filters.count })

        let uplink = AgentUplink(endpoint: ControllerEndpoint(host: "127.0.0.1", port: controller.port, tls: try pki.clientContext(.agent)),
                                 spool: try Spool(directory: temporaryDirectory("spool"), agentId: "node-1"),
                                 node: AgentIdentity(nodeName: "node-1", agentVersion: "test", kernelRelease: "test"),
                                 backoff: Backoff(baseMs: 20, capMs: 200, floorMs: 10), log: { _ in })
        uplink.start()
        var sent: [[UInt8]] = []
        for b in 1...20 {
            let records = mixedRecords(batch: b)
            sent += records
            _ = try uplink.submit(records: records)
        }
        #expect(await uplink.drain(timeoutMs: 15_000))

        for (filter, (_, got)) in zip(filters, consumers) {
            // Ground truth computed from the records' JSON with Foundation, not with RecordView.
            let expected = sent.filter { Self.reference(filter, $0) }.map { String(decoding: $0, as: UTF8.self) }
            #expect(!expected.isEmpty)
            #expect(await eventually { got.lines.count >= expected.count })
            try await Task.sleep(for: .milliseconds(200))  // nothing more may follow
            #expect(got.lines == expected, "filter \(filter): \(got.lines.count) received, \(expected.count) expected")
        }
        #expect(controller.hub.stats.publishedRecords == UInt64(sent.count))
        #expect(controller.hub.stats.unparsedRecords == 0)
        await uplink.stop()
        for (c, _) in consumers { await c.stop() }
        await controller.stop()
    }

    /// The filter's documented meaning, evaluated on Foundation's parse of the record.
    static func reference(_ f: Subscribe, _ record: [UInt8]) -> Bool {
        let o = try! JSONSerialization.jsonObject(with: Data(record)) as! [String: Any]
        func s(_ k: String) -> String { o[k] as? String ?? "" }
        let kind = s("kind")
        if !f.kind.isEmpty && kind != f.kind { return false }
        if !f.namespace.isEmpty && s("src_ns") != f.namespace && s("dst_ns") != f.namespace { return false }
        if !f.pod.isEmpty {
            let parts = f.pod.split(separator: "/").map(String.init)
            let ok = parts.count == 2
                ? (s("src_ns") == parts[0] && s("src_pod") == parts[1]) || (s("dst_ns") == parts[0] && s("dst_pod") == parts[1])
                : s("src_pod") == f.pod || s("dst_pod") == f.pod
            if !ok { return false }
        }
        if !f.service.isEmpty && s("dst_service") != f.service { return false }
        if !f.protocol.isEmpty {
            let transport = ["http": "tcp", "dns": "udp"][kind] ?? kind
            if kind != f.protocol && transport != f.protocol { return false }
        }
        if !f.status.isEmpty {
            if let code = o["http_status_code"] as? Int {
                let s = f.status.lowercased()
                if s.hasSuffix("xx") { if "\(code / 100)" != s.prefix(1) { return false } } else if "\(code)" != s { return false }
            } else if s("dns_response_code") != f.status.uppercased() {
                return false
            }
        }
        return true
    }

    @Test("an in-process sink that refuses records has them counted and announced with the next batch")
    func refusedRecordsAreCounted() {
        let hub = StreamHub()
        final class Box: @unchecked Sendable { var accept = false; var got: [(Int, UInt64)] = [] }
        let box = Box()
        _ = hub.add(.deliver { records, dropped in
            guard box.accept else { return false }
            box.got.append((records.count, dropped))
            return true
        }, filter: RecordFilter(kind: "tcp"))
        let records = mixedRecords(batch: 1)   // 3 tcp records of 12
        hub.publish(format: .jsonLines, records: records)
        hub.publish(format: .jsonLines, records: records)
        box.accept = true
        hub.publish(format: .jsonLines, records: records)
        #expect(box.got.count == 1 && box.got[0] == (3, 6))
        #expect(hub.stats.droppedRecords == 6 && hub.stats.deliveredRecords == 3 && hub.stats.publishedRecords == 36)
    }

    @Test("unparsable records reach only unfiltered subscribers, and are counted")
    func unparsable() {
        let hub = StreamHub()
        final class Box: @unchecked Sendable { var all = 0; var filtered = 0 }
        let box = Box()
        _ = hub.add(.deliver { r, _ in box.all += r.count; return true }, filter: RecordFilter())
        _ = hub.add(.deliver { r, _ in box.filtered += r.count; return true }, filter: RecordFilter(kind: "tcp"))
        hub.publish(format: .jsonLines, records: [Array("not json".utf8), Array(#"{"kind":"tcp"}"#.utf8)])
        #expect(box.all == 2 && box.filtered == 1 && hub.stats.unparsedRecords == 1)
    }
}

/// `netobs tail ARGS` as planned at `now`: the Subscribe and the client-side filter.
func tailPlan(_ arguments: [String], now: UInt64 = 1_764_379_815_000_000_000) throws -> TailPlan {
    try TailCommand.parse(arguments).plan(arguments: arguments, nowNs: now)
}

@Suite("netobs tail: flags and output")
struct TailOutputTests {
    @Test func flagsBecomeTheSubscription() throws {
        let args = ["--controller", "127.0.0.1:7443", "--certs", "c", "--namespace", "shop",
                    "--pod", "shop/carts-1", "--service", "carts", "--kind", "http",
                    "--protocol", "tcp", "--status", "5xx", "--anomalies", "--output", "json"]
        #expect(try tailPlan(args).subscribe == Subscribe(namespace: "shop", pod: "shop/carts-1", service: "carts", kind: "http",
                                                          protocol: "tcp", status: "5xx", anomaliesOnly: true))
        #expect(try TailCommand.parse(args).output == .json)
        #expect(throws: (any Error).self) { try TailCommand.parse(["--controller", "h:1", "--protocol", "sctp"]) }
        #expect(throws: (any Error).self) { try TailCommand.parse(["--controller", "h:1", "--output", "yaml"]) }
    }

    @Test func lastAndNoFollow() throws {
        let args = ["--controller", "h:1", "--kind", "http", "--last", "25", "--no-follow"]
        let plan = try tailPlan(args)
        #expect(plan.subscribe == Subscribe(kind: "http", replayLast: 25) && plan.endsAfterReplay)
        #expect(try tailPlan(["--controller", "h:1"]).subscribe.replayLast == 0)
        #expect(throws: (any Error).self) { try TailCommand.parse(["--controller", "h:1", "--no-follow"]) }
        #expect(throws: (any Error).self) { try TailCommand.parse(["--controller", "h:1", "--last", "-1"]) }
    }

    @Test func tableAndJSON() {
        let records = [joined("http", ns: "shop", pod: "front-0", extra: #""http_request_method":"GET","http_request_uri":"/x","http_status_code":503,"http_duration":1500000"#, i: 1),
                       Array("garbage".utf8)]
        let table = TailPrinter(format: .table, colour: false)
        #expect(table.header?.hasPrefix("TIME") == true)
        let lines = table.text(records).split(separator: "\n").map(String.init)
        #expect(lines.count == 2)
        #expect(lines[0].hasPrefix("01:30:15.000 http     shop/front-0:40000"))
        #expect(lines[0].contains("→ shop/carts-1:80") && lines[0].hasSuffix("GET /x 503 1.5ms"))
        #expect(lines[1] == "unparsed record: garbage")
        for format in [ListingFormat.json, .jsonl] {
            let json = TailPrinter(format: format, colour: false)
            #expect(json.header == nil)
            #expect(json.text(records) == records.map { String(decoding: $0, as: UTF8.self) + "\n" }.joined())
        }
    }
}
