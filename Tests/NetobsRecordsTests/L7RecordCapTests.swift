import Testing
@testable import NetobsRecords

private let context = RecordContext(node: "n1", monotonicToUnixNs: 0)

private func http(_ uri: String, status: UInt16 = 200, cgroup: UInt64 = 5, duration: UInt64 = 3_000) -> L7Event {
    let ep = Endpoints(localAddr: Array(repeating: 1, count: 16), remoteAddr: Array(repeating: 2, count: 16),
                       localPort: 40000, remotePort: 80, ipVersion: 4, role: 1, netns: 7)
    var e = L7Event(kind: .http, endpoints: ep, owner: Owner(pid: 1, comm: "curl", cgroupID: cgroup),
                    startNs: 1_000, endNs: 1_000 + duration, text: Array(uri.utf8))
    e.httpMethod = 1
    e.httpVersion = 11
    e.httpStatus = status
    return e
}

@Suite struct L7RecordCapTests {
    @Test func underTheCapEveryExchangeIsARecord() {
        var cap = L7RecordCap(cap: 3, maxKeys: 10)
        let out = cap.records([http("/a"), http("/b"), http("/c")], nowMonotonicNs: 9, context: context)
        #expect(out.map(\.kind) == ["http", "http", "http"])
        #expect(cap.aggregatedTotal == 0)
    }

    @Test func pastTheCapExchangesAreAggregatedAndCounted() {
        var cap = L7RecordCap(cap: 1, maxKeys: 10)
        let events = [http("/a"), http("/a", duration: 1_000), http("/a", duration: 5_000), http("/a", status: 503),
                      http("/a", cgroup: 6), http("/b")]
        let out = cap.records(events, nowMonotonicNs: 9, context: context)
        #expect(out.first?.kind == "http")
        let agg = out.filter { $0.kind == "http_aggregate" }
        #expect(agg.count == 4) // /a 200 cg5, /a 503 cg5, /a 200 cg6, /b 200 cg5
        let a = agg[0]
        #expect(a["http_request_uri"] == .string("/a") && a["http_status_code"] == .uint(200) && a["cgroup_id"] == .uint(5))
        #expect(a["count"] == .uint(2))
        #expect(a["http_duration_sum"] == .uint(6_000) && a["http_duration_max"] == .uint(5_000))
        #expect(a["http_duration_avg"] == .uint(3_000))
        #expect(a["http_duration_hist_log2_us"] == .array([.uint(1), .uint(0), .uint(1)]))
        #expect(cap.aggregatedTotal == 5)
        #expect(cap.counterTotals["l7_records_aggregated"] == 5)
        let counted = agg.reduce(UInt64(0)) { if case .uint(let n)? = $1["count"] { return $0 + n }; return $0 }
        #expect(counted + 1 == UInt64(events.count))
    }

    @Test func uriCardinalityIsBoundedPerInterval() {
        var cap = L7RecordCap(cap: 0, maxKeys: 2)
        let out = cap.records((0..<5).map { http("/u\($0)") }, nowMonotonicNs: 9, context: context)
        #expect(out.map { $0["http_request_uri"] } == [.string("/u0"), .string("/u1"), .string("<other>")])
        #expect(out.last?["count"] == .uint(3))
        #expect(cap.overflowTotal == 3)
        // A new interval starts with fresh room.
        let next = cap.records([http("/u4")], nowMonotonicNs: 10, context: context)
        #expect(next.first?["http_request_uri"] == .string("/u4"))
    }
}
