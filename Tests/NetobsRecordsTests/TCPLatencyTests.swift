import Testing
@testable import NetobsRecords

private let context = RecordContext(node: "n1", monotonicToUnixNs: 1_000)
private let ep = Endpoints(localAddr: [10, 0, 0, 1] + Array(repeating: 0, count: 12),
                           remoteAddr: [10, 0, 0, 2] + Array(repeating: 0, count: 12),
                           localPort: 40000, remotePort: 6379, ipVersion: 4, role: 1, netns: 7)

private func turns(requests: UInt64, sum: UInt64, buckets: [Int: UInt32], max: (epoch: UInt32, ns: UInt64)? = nil) -> TCPTurns {
    var hist = Array(repeating: UInt32(0), count: 32)
    for (b, n) in buckets { hist[b] = n }
    var t = TCPTurns(endpoints: ep, owner: Owner(pid: 3, comm: "redis-cli", cgroupID: 5), lastNs: 10,
                     requests: requests, latencySumNs: sum, histogram: hist)
    if let max {
        if max.epoch & 1 == 0 { t.maxEpoch.0 = max.epoch; t.maxNs.0 = max.ns } else { t.maxEpoch.1 = max.epoch; t.maxNs.1 = max.ns }
    }
    return t
}

@Suite struct TCPLatencyTests {
    @Test func bucketsAreLog2OfMicroseconds() {
        #expect(LatencyHistogram.bucket(ns: 0) == 0)
        #expect(LatencyHistogram.bucket(ns: 999) == 0)
        #expect(LatencyHistogram.bucket(ns: 1_999) == 0)
        #expect(LatencyHistogram.bucket(ns: 2_000) == 1)
        #expect(LatencyHistogram.bucket(ns: 1_000_000) == 9) // 1000 µs: [512, 1024)
        #expect(LatencyHistogram.bucket(ns: UInt64.max) == 31)
    }

    @Test func quantilesAreBucketBoundsClampedToTheMaximum() {
        var hist = Array(repeating: UInt64(0), count: 32)
        hist[5] = 90 // [32, 64) µs
        hist[10] = 10 // [1024, 2048) µs
        #expect(LatencyHistogram.quantile(0.5, histogram: hist, maxNs: 1_500_000) == 64_000)
        #expect(LatencyHistogram.quantile(0.9, histogram: hist, maxNs: 1_500_000) == 64_000)
        #expect(LatencyHistogram.quantile(0.99, histogram: hist, maxNs: 1_500_000) == 1_500_000)
        #expect(LatencyHistogram.quantile(0.5, histogram: Array(repeating: 0, count: 32), maxNs: 0) == 0)
    }

    @Test func recordsCarryIntervalDeltas() {
        var tracker = TCPLatencyTracker()
        let key: UInt64 = 0x0102_0304
        let first = tracker.flush([(key, turns(requests: 4, sum: 400_000, buckets: [6: 4], max: (0, 120_000)))],
                                  endedEpoch: 0, nowMonotonicNs: 50, context: context)
        #expect(first.count == 1)
        let r = first[0]
        #expect(r.kind == "tcp_latency")
        #expect(r["req_count"] == .uint(4))
        #expect(r["req_latency_avg"] == .uint(100_000))
        #expect(r["req_latency_max"] == .uint(120_000))
        #expect(r["req_latency_p50"] == .uint(120_000))
        #expect(r["src_port"] == .uint(40000) && r["dst_port"] == .uint(6379))
        // Nothing new: no record. Then 2 more, the maximum of the new interval only.
        #expect(tracker.flush([(key, turns(requests: 4, sum: 400_000, buckets: [6: 4], max: (0, 120_000)))],
                              endedEpoch: 1, nowMonotonicNs: 60, context: context).isEmpty)
        let third = tracker.flush([(key, turns(requests: 6, sum: 406_000, buckets: [6: 4, 1: 2], max: (2, 3_000)))],
                                  endedEpoch: 2, nowMonotonicNs: 70, context: context)
        #expect(third.first?["req_count"] == .uint(2))
        #expect(third.first?["req_latency_avg"] == .uint(3_000))
        #expect(third.first?["req_latency_max"] == .uint(3_000))
        #expect(third.first?["req_latency_p99"] == .uint(3_000))
    }

    @Test func anUnchangedConnectionIsRememberedUntilRemoved() {
        var tracker = TCPLatencyTracker()
        let key: UInt64 = 9
        _ = tracker.flush([(key, turns(requests: 3, sum: 30, buckets: [0: 3]))], endedEpoch: 0, nowMonotonicNs: 1, context: context)
        // Not read again (unchanged): its totals stay, so the next change is a delta.
        _ = tracker.flush([], endedEpoch: 1, nowMonotonicNs: 2, context: context)
        #expect(tracker.connections == 1)
        let later = tracker.flush([(key, turns(requests: 5, sum: 50, buckets: [0: 5]))], endedEpoch: 2, nowMonotonicNs: 3, context: context)
        #expect(later.first?["req_count"] == .uint(2))
    }

    @Test func aRemovedKeyStartsAgainFromZero() {
        var tracker = TCPLatencyTracker()
        let key: UInt64 = 9
        _ = tracker.flush([(key, turns(requests: 3, sum: 30, buckets: [0: 3]))], endedEpoch: 0, nowMonotonicNs: 1, context: context)
        _ = tracker.flush([], removed: [key], endedEpoch: 1, nowMonotonicNs: 2, context: context)
        #expect(tracker.connections == 0)
        let again = tracker.flush([(key, turns(requests: 1, sum: 10, buckets: [0: 1]))], endedEpoch: 2, nowMonotonicNs: 3, context: context)
        #expect(again.first?["req_count"] == .uint(1))
        // Without a kernel maximum for the interval, the top bucket's bound.
        #expect(again.first?["req_latency_max"] == .uint(2_000))
    }
}
