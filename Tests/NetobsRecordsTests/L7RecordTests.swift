import CNetobsLayout
import Testing
@testable import NetobsRecords

private let context = RecordContext(node: "n1", monotonicToUnixNs: 1_000)

private func event(_ kind: L7Event.Kind, start: UInt64 = 100, end: UInt64 = 350) -> L7Event {
    let ep = Endpoints(localAddr: [10, 0, 0, 1] + Array(repeating: 0, count: 12),
                       remoteAddr: [10, 0, 0, 2] + Array(repeating: 0, count: 12),
                       localPort: 40000, remotePort: kind == .http ? 80 : 53, ipVersion: 4, role: 1, netns: 7)
    return L7Event(kind: kind, endpoints: ep, owner: Owner(pid: 9, comm: "curl", cgroupID: 5),
                   startNs: start, endNs: end, textID: 77)
}

@Suite struct L7RecordTests {
    @Test func httpExemplarHasTheContractFieldsAndWhyItWasSent() {
        var e = event(.http)
        e.httpMethod = 3
        e.httpVersion = 11
        e.httpStatus = 503
        e.reason = .error
        let r = L7Records.record(e, text: "/api/items?id=3", context: context)
        #expect(r.kind == "http")
        #expect(r["ts_ns"] == .uint(1_350))
        #expect(r["src_ip"] == .string("10.0.0.1"))
        #expect(r["dst_port"] == .uint(80))
        #expect(r["role"] == .string("client"))
        #expect(r["http_request_method"] == .string("POST"))
        #expect(r["http_request_uri"] == .string("/api/items?id=3"))
        #expect(r["http_request_version"] == .string("HTTP/1.1"))
        #expect(r["http_status_code"] == .uint(503))
        #expect(r["http_duration"] == .uint(250))
        #expect(r["http_request_uri_truncated"] == nil)
        #expect(r["exemplar"] == .string("error"))
    }

    @Test func dnsExemplar() {
        var e = event(.dns)
        e.dnsID = 4242
        e.dnsQueryType = 28
        e.dnsResponseCode = 3
        e.reason = .sample
        let r = L7Records.record(e, text: "www.example.com", context: context)
        #expect(r.kind == "dns")
        #expect(r["dns_transaction_id"] == .uint(4242))
        #expect(r["dns_query_domain"] == .string("www.example.com"))
        #expect(r["dns_query_type"] == .string("AAAA"))
        #expect(r["dns_response_code"] == .string("NXDOMAIN"))
        #expect(r["dns_duration"] == .uint(250))
        #expect(r["exemplar"] == .string("sample"))
    }

    @Test func unansweredQueriesTimeOut() {
        var e = event(.dns, start: 1_000, end: 0)
        e.dnsQueryType = 15
        let pending = [([UInt8(1)], e), ([UInt8(2)], event(.dns, start: 5_500, end: 0))]
        let expired = L7Records.timedOut(pending, nowMonotonicNs: 6_000, timeoutNs: 5_000)
        #expect(expired.map(\.0) == [[1]])
        let r = L7Records.timeoutRecord(e, text: "a.lab", nowMonotonicNs: 6_000, context: context)
        #expect(r["dns_response_code"] == .string("TIMEOUT"))
        #expect(r["dns_query_domain"] == .string("a.lab"))
        #expect(r["dns_query_type"] == .string("MX"))
        #expect(r["dns_duration"] == .uint(5_000))
        #expect(r["ts_ns"] == .uint(7_000))
        #expect(r["exemplar"] == .string("error"))
    }

    @Test func namesOfCodes() {
        #expect(L7Names.httpMethod(0) == "UNKNOWN" && L7Names.httpMethod(9) == "PATCH" && L7Names.httpMethod(99) == "UNKNOWN")
        #expect(L7Names.httpVersion(10) == "HTTP/1.0" && L7Names.httpVersion(0) == "")
        #expect(L7Names.dnsType(1) == "A" && L7Names.dnsType(65) == "HTTPS" && L7Names.dnsType(999) == "TYPE999")
        #expect(L7Names.dnsResponseCode(2) == "SERVFAIL" && L7Names.dnsResponseCode(15) == "RCODE15")
        #expect(L7Records.counterNames.count == Int(NETOBS_L7_COUNTER_COUNT.rawValue))
    }

    @Test func wireNamesAreDecodedDefensively() {
        #expect(L7Names.dnsName(wire: []) == "")
        #expect(L7Names.dnsName(wire: [0]) == "")
        #expect(L7Names.dnsName(wire: [3] + Array("abc".utf8) + [9] + Array("de".utf8)) == "abc.de") // cut label
        #expect(L7Names.dnsName(wire: [0xc0, 0x0c]) == "") // a pointer is not followed
    }

    @Test func decodesKernelLayouts() {
        var raw = [UInt8](repeating: 0, count: MemoryLayout<netobs_l7_event>.size)
        let kindOffset = MemoryLayout<netobs_l7_event>.offset(of: \netobs_l7_event.kind)!
        raw[kindOffset] = 1
        raw[MemoryLayout<netobs_l7_event>.offset(of: \netobs_l7_event.reason)!] = 2
        raw[MemoryLayout<netobs_l7_event>.offset(of: \netobs_l7_event.text_id)!] = 42
        let e = raw.withUnsafeBytes { L7Event(raw: $0) }
        #expect(e?.kind == .http && e?.reason == .slow && e?.textID == 42)
        #expect(raw.dropLast().withUnsafeBytes { L7Event(raw: $0) } == nil)

        var text = [UInt8](repeating: 0, count: MemoryLayout<netobs_l7_text>.size)
        text[0] = 5 // len
        text[2] = 2 // kind: dns
        let name: [UInt8] = [1, UInt8(ascii: "a"), 3] + Array("lab".utf8)
        text.replaceSubrange(8..<(8 + name.count), with: name)
        let t = text.withUnsafeBytes { L7Text(raw: $0) }
        #expect(t?.display == "a.la") // len 5 cuts the second label
        #expect(t?.kind == .dns)
    }

    @Test func exemplarCapKeepsErrorsFirst() {
        var cap = L7ExemplarCap(cap: 2)
        let reasons: [L7Event.Reason] = [.sample, .sample, .error, .slow, .sample]
        let kept = cap.select(Array(reasons.enumerated())) { $0.element }
        #expect(kept.map(\.offset) == [2, 3]) // the error, the slow one, in arrival order
        #expect(cap.overCapTotal == 3)
        #expect(cap.counterTotals["l7_exemplars_over_cap"] == 3)
        var roomy = L7ExemplarCap(cap: 10)
        #expect(roomy.select(reasons) { $0 } == reasons && roomy.overCapTotal == 0)
    }
}
