import Testing
@testable import NetobsRecords

private let context = RecordContext(node: "n1", monotonicToUnixNs: 1_000)

private func event(_ kind: L7Event.Kind, text: String, start: UInt64 = 100, end: UInt64 = 350) -> L7Event {
    let ep = Endpoints(localAddr: [10, 0, 0, 1] + Array(repeating: 0, count: 12),
                       remoteAddr: [10, 0, 0, 2] + Array(repeating: 0, count: 12),
                       localPort: 40000, remotePort: kind == .http ? 80 : 53, ipVersion: 4, role: 1, netns: 7)
    return L7Event(kind: kind, endpoints: ep, owner: Owner(pid: 9, comm: "curl", cgroupID: 5),
                   startNs: start, endNs: end, text: Array(text.utf8))
}

@Suite struct L7RecordTests {
    @Test func httpRecordHasTheContractFields() {
        var e = event(.http, text: "/api/items?id=3")
        e.httpMethod = 3
        e.httpVersion = 11
        e.httpStatus = 503
        let r = L7Records.record(e, context: context)
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
    }

    @Test func dnsRecordDecodesTheWireName() {
        var e = event(.dns, text: "\u{3}www\u{7}example\u{3}com")
        e.dnsID = 4242
        e.dnsQueryType = 28
        e.dnsResponseCode = 3
        let r = L7Records.record(e, context: context)
        #expect(r.kind == "dns")
        #expect(r["dns_transaction_id"] == .uint(4242))
        #expect(r["dns_query_domain"] == .string("www.example.com"))
        #expect(r["dns_query_type"] == .string("AAAA"))
        #expect(r["dns_response_code"] == .string("NXDOMAIN"))
        #expect(r["dns_duration"] == .uint(250))
    }

    @Test func unansweredQueriesTimeOut() {
        var e = event(.dns, text: "\u{1}a\u{3}lab", start: 1_000, end: 0)
        e.dnsQueryType = 15
        let pending = [([UInt8(1)], e), ([UInt8(2)], event(.dns, text: "", start: 5_500, end: 0))]
        let expired = L7Records.timedOut(pending, nowMonotonicNs: 6_000, timeoutNs: 5_000)
        #expect(expired.map(\.0) == [[1]])
        let r = L7Records.timeoutRecord(e, nowMonotonicNs: 6_000, context: context)
        #expect(r["dns_response_code"] == .string("TIMEOUT"))
        #expect(r["dns_query_domain"] == .string("a.lab"))
        #expect(r["dns_query_type"] == .string("MX"))
        #expect(r["dns_duration"] == .uint(5_000))
        #expect(r["ts_ns"] == .uint(7_000))
    }

    @Test func namesOfCodes() {
        #expect(L7Names.httpMethod(0) == "UNKNOWN" && L7Names.httpMethod(9) == "PATCH" && L7Names.httpMethod(99) == "UNKNOWN")
        #expect(L7Names.httpVersion(10) == "HTTP/1.0" && L7Names.httpVersion(0) == "")
        #expect(L7Names.dnsType(1) == "A" && L7Names.dnsType(65) == "HTTPS" && L7Names.dnsType(999) == "TYPE999")
        #expect(L7Names.dnsResponseCode(2) == "SERVFAIL" && L7Names.dnsResponseCode(15) == "RCODE15")
    }

    @Test func wireNamesAreDecodedDefensively() {
        #expect(L7Names.dnsName(wire: []) == "")
        #expect(L7Names.dnsName(wire: [0]) == "")
        #expect(L7Names.dnsName(wire: [3] + Array("abc".utf8) + [9] + Array("de".utf8)) == "abc.de") // cut label
        #expect(L7Names.dnsName(wire: [0xc0, 0x0c]) == "") // a pointer is not followed
    }

    @Test func decodesKernelLayout() {
        var raw = [UInt8](repeating: 0, count: 248)
        raw[96 + 6] = 1 // kind = http
        raw[100] = 2 // text_len (u16 at 100)
        raw[120] = UInt8(ascii: "/")
        raw[121] = UInt8(ascii: "x")
        let e = raw.withUnsafeBytes { L7Event(raw: $0) }
        #expect(e?.kind == .http)
        #expect(e?.text == Array("/x".utf8))
        #expect(raw.dropLast().withUnsafeBytes { L7Event(raw: $0) } == nil)
    }
}
