import CNetobsLayout
import Testing
@testable import NetobsRecords

private let context = RecordContext(node: "n1", monotonicToUnixNs: 1_000)

private func key(_ text: UInt64, status: UInt16 = 200, role: UInt8 = 1, kind: L7Event.Kind = .http) -> L7AggregateKey {
    L7AggregateKey(kind: kind, cgroupID: 5, textID: text, localAddr: [10, 0, 0, 1] + Array(repeating: 0, count: 12),
                   remoteAddr: [10, 0, 0, 2] + Array(repeating: 0, count: 12), netns: 7, serverPort: 80,
                   result: status, code: kind == .http ? 1 : 28, role: role, ipVersion: 4, httpVersion: kind == .http ? 11 : 0)
}

private func counts(_ n: UInt64, ns: UInt64 = 3_000) -> L7AggregateCounts {
    var c = L7AggregateCounts()
    for _ in 0..<n { c.add(ns: ns) }
    return c
}

/// One CPU's `struct netobs_l7_aggregate`.
private func perCPU(count: UInt64, sum: UInt64, bucket: Int, max: (epoch: UInt32, ns: UInt64)) -> [UInt8] {
    var a = netobs_l7_aggregate()
    a.count = count
    a.duration_sum_ns = sum
    withUnsafeMutableBytes(of: &a.hist) { $0.storeBytes(of: UInt32(count), toByteOffset: bucket * 4, as: UInt32.self) }
    if max.epoch & 1 == 0 { a.max_epoch.0 = max.epoch; a.max_ns.0 = max.ns } else { a.max_epoch.1 = max.epoch; a.max_ns.1 = max.ns }
    return withUnsafeBytes(of: a) { Array($0) }
}

@Suite struct L7AggregateTests {
    @Test func perCPUValuesAreSummedAndTheEndedIntervalsMaximumTaken() {
        let raw = perCPU(count: 3, sum: 9_000, bucket: 1, max: (4, 3_500)) + perCPU(count: 2, sum: 40_000, bucket: 4, max: (2, 90_000))
        let c = raw.withUnsafeBytes { L7AggregateCounts(perCPU: $0, cpus: 2, endedEpoch: 4) }
        #expect(c?.count == 5 && c?.sumNs == 49_000)
        #expect(c?.histogram[1] == 3 && c?.histogram[4] == 2)
        #expect(c?.maxNs == 3_500) // CPU 1's maximum belongs to an older interval
        #expect(raw.dropLast().withUnsafeBytes { L7AggregateCounts(perCPU: $0, cpus: 2, endedEpoch: 4) } == nil)
    }

    @Test func keysRoundTripThroughTheKernelLayout() {
        let k = key(0xdead_beef, status: 503, role: 2)
        #expect(k.raw.count == MemoryLayout<netobs_l7_aggregate_key>.size)
        #expect(k.raw.withUnsafeBytes { L7AggregateKey(raw: $0) } == k)
    }

    @Test func deltasPerIntervalAndIdleKeysRemovedWithoutLoss() {
        var deltas = L7AggregateDeltas(idleIntervals: 2)
        let a = key(1), b = key(2)
        var (changed, idle) = deltas.update([(a, counts(4)), (b, counts(1))])
        #expect(changed.map(\.1.count) == [4, 1] && idle.isEmpty)
        (changed, idle) = deltas.update([(a, counts(10)), (b, counts(1))])
        #expect(changed.map(\.0) == [a] && changed.first?.1.count == 6)
        #expect(changed.first?.1.histogram[1] == 6 && changed.first?.1.sumNs == 18_000)
        (changed, idle) = deltas.update([(a, counts(10)), (b, counts(1))])
        #expect(changed.isEmpty && idle == [b])
        // Taken out of the map with 2 more counted since the read: they are not lost.
        #expect(deltas.removed(b, final: counts(3))?.count == 2)
        #expect(deltas.removed(a, final: nil) == nil)
        #expect(deltas.keys == 0)
        // Made anew by the kernel: counts from zero.
        (changed, _) = deltas.update([(b, counts(1))])
        #expect(changed.first?.1.count == 1)
    }

    @Test func histogramDeltasWrapAsTheKernels32BitBucketsDo() {
        var before = L7AggregateCounts(count: 10)
        before.histogram[0] = UInt64(UInt32.max) - 1
        var after = L7AggregateCounts(count: 13)
        after.histogram[0] = 1 // the per-CPU bucket wrapped: 3 more
        #expect(after.since(before).histogram[0] == 3)
    }

    @Test func recordsCarryFlowFieldsServerPortAndPercentiles() {
        var agg = L7AggregateRecords(maxTexts: 10)
        var slow = counts(3, ns: 3_000)
        slow.add(ns: 1_500_000)
        let out = agg.records([(key(1), slow), (key(1, role: 2), counts(2))], texts: { _ in ("/ok", false) },
                              nowMonotonicNs: 9, context: context)
        #expect(out.count == 2)
        let client = out[0], server = out[1]
        #expect(client.kind == "http_aggregate")
        #expect(client["ts_ns"] == .uint(1_009))
        #expect(client["src_ip"] == .string("10.0.0.1") && client["dst_ip"] == .string("10.0.0.2"))
        #expect(client["dst_port"] == .uint(80) && client["src_port"] == nil)
        #expect(server["src_port"] == .uint(80) && server["dst_port"] == nil)
        #expect(client["role"] == .string("client") && server["role"] == .string("server"))
        #expect(client["ip_version"] == .uint(4) && client["netns"] == .uint(7) && client["cgroup_id"] == .uint(5))
        #expect(client["http_request_method"] == .string("GET") && client["http_request_uri"] == .string("/ok"))
        #expect(client["http_request_version"] == .string("HTTP/1.1") && client["http_status_code"] == .uint(200))
        #expect(client["count"] == .uint(4))
        #expect(client["http_duration_sum"] == .uint(1_509_000))
        #expect(client["http_duration_avg"] == .uint(377_250))
        #expect(client["http_duration_max"] == .uint(1_500_000))
        #expect(client["http_duration_p50"] == .uint(4_000))
        #expect(client["http_duration_p99"] == .uint(1_500_000))
        guard case .array(let hist)? = client["http_duration_hist_log2_us"] else { Issue.record("no histogram"); return }
        #expect(hist.reduce(0) { if case .uint(let n) = $1 { return $0 + n }; return $0 } == 4)
    }

    @Test func dnsRecordsAndTimeouts() {
        var agg = L7AggregateRecords(maxTexts: 10)
        let out = agg.records([(key(3, status: 3, kind: .dns), counts(2)), (key(3, status: L7AggregateKey.dnsTimeout, kind: .dns), counts(1))],
                              texts: { _ in ("a.svc.lab", false) }, nowMonotonicNs: 9, context: context)
        #expect(out.map(\.kind) == ["dns_aggregate", "dns_aggregate"])
        #expect(out[0]["dns_query_domain"] == .string("a.svc.lab") && out[0]["dns_query_type"] == .string("AAAA"))
        #expect(out[0]["dns_response_code"] == .string("NXDOMAIN") && out[1]["dns_response_code"] == .string("TIMEOUT"))
        #expect(out[0]["dns_duration_avg"] == .uint(3_000))
    }

    @Test func pastMaxTextsTheLeastUsedBecomeOther() {
        var agg = L7AggregateRecords(maxTexts: 2)
        let deltas = [(key(1), counts(1)), (key(2), counts(5)), (key(3), counts(4)), (key(4), counts(2))]
        let out = agg.records(deltas, texts: { ("/u\($0.textID)", false) }, nowMonotonicNs: 9, context: context)
        #expect(out.map { $0["http_request_uri"] } == [.string("<other>"), .string("/u2"), .string("/u3")])
        #expect(out.first?["count"] == .uint(3))
        #expect(agg.overflowTotal == 3)
        // A truncated URI says so.
        var fresh = L7AggregateRecords(maxTexts: 2)
        let cut = fresh.records([(key(9), counts(1))], texts: { _ in (String(repeating: "x", count: 128), true) },
                                nowMonotonicNs: 9, context: context)
        #expect(cut.first?["http_request_uri_truncated"] == .bool(true))
    }

    @Test func overflowRecordHasNoFlowFields() {
        let r = L7AggregateRecords.overflowRecord(kind: .http, counts(7), nowMonotonicNs: 9, context: context)
        #expect(r.kind == "http_aggregate" && r["http_request_uri"] == .string("<other>") && r["count"] == .uint(7))
        #expect(r["src_ip"] == nil)
    }

    @Test func textsAreReadOnceAndUnknownOnesCounted() {
        var catalog = L7TextCatalog(keepIntervals: 1)
        var reads = 0
        let read = { (id: UInt64) -> L7Text? in
            reads += 1
            return id == 1 ? L7Text(kind: .http, bytes: Array("/a".utf8), truncated: true) : nil
        }
        #expect(catalog.text(1, read: read) == ("/a", true))
        #expect(catalog.text(1, read: read) == ("/a", true))
        #expect(reads == 1)
        #expect(catalog.text(2, read: read).text == L7TextCatalog.unknown)
        #expect(catalog.unknownTotal == 1)
        for _ in 0..<128 { catalog.endInterval() }
        #expect(catalog.count == 0) // unused for longer than keepIntervals
    }
}
