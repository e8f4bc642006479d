import Testing
@testable import NetobsRecords

private let context = RecordContext(node: "n1", monotonicToUnixNs: 1_000_000_000_000)

private func endpoints(role: UInt8 = 1) -> Endpoints {
    Endpoints(localAddr: [10, 0, 0, 1] + Array(repeating: 0, count: 12),
              remoteAddr: [10, 0, 0, 2] + Array(repeating: 0, count: 12),
              localPort: 40000, remotePort: 80, ipVersion: 4, role: role, netns: 7)
}

private func flow(transitions: [(UInt8, UInt8)] = [], tx: UInt64 = 0, rx: UInt64 = 0) -> TCPFlowSample {
    var s = TCPFlowSample(sock: 0xffff_1234, endpoints: endpoints(), owner: Owner(pid: 9, comm: "curl", cgroupID: 5))
    s.startNs = 100
    s.txBytes = tx
    s.rxBytes = rx
    s.transitionRing = Array(repeating: StateTransition(tsNs: 0, oldStateNs: 0, oldState: 0, newState: 0),
                             count: TCPFlowSample.ringCapacity)
    for (old, new) in transitions { s.append(old, new) }
    return s
}

extension TCPFlowSample {
    mutating func append(_ old: UInt8, _ new: UInt8) {
        let seq = Int(transitionCount)
        transitionRing[seq % Self.ringCapacity] = StateTransition(tsNs: 100 + UInt64(seq), oldStateNs: 10,
                                                                  oldState: old, newState: new)
        transitionCount += 1
        state = new
    }
}

@Suite struct TCPIntervalTrackerTests {
    @Test func oneRecordPerTransitionAndCountersOnTheLast() {
        var tracker = TCPIntervalTracker()
        let s = flow(transitions: [(7, 2), (2, 1)], tx: 500, rx: 20)
        let records = tracker.flush(live: [s], closed: [], endedEpoch: 0, nowMonotonicNs: 1000, context: context)
        #expect(records.count == 2)
        #expect(records[0]["tcp_old_state"] == .string("CLOSE"))
        #expect(records[0]["tcp_new_state"] == .string("SYN_SENT"))
        #expect(records[0]["tcp_tx_bytes"] == .uint(0))
        #expect(records[1]["tcp_old_state"] == .string("SYN_SENT"))
        #expect(records[1]["tcp_new_state"] == .string("ESTABLISHED"))
        #expect(records[1]["tcp_tx_bytes"] == .uint(500))
        #expect(records[1]["tcp_rx_bytes"] == .uint(20))
        #expect(records[1]["src_ip"] == .string("10.0.0.1"))
        #expect(records[1]["dst_port"] == .uint(80))
        #expect(records[1]["pid"] == .uint(9))
        #expect(records[1]["role"] == .string("client"))
        #expect(records[1]["tcp_span_time"] == .uint(900))
    }

    @Test func countersAreDeltasAndQuietFlowsAreSilent() {
        var tracker = TCPIntervalTracker()
        var s = flow(transitions: [(7, 2), (2, 1)], tx: 500)
        _ = tracker.flush(live: [s], closed: [], endedEpoch: 0, nowMonotonicNs: 1000, context: context)
        #expect(tracker.flush(live: [s], closed: [], endedEpoch: 1, nowMonotonicNs: 2000, context: context).isEmpty)
        s.txBytes = 800
        let records = tracker.flush(live: [s], closed: [], endedEpoch: 2, nowMonotonicNs: 3000, context: context)
        #expect(records.count == 1)
        #expect(records[0]["tcp_tx_bytes"] == .uint(300))
        #expect(records[0]["tcp_old_state"] == .string("ESTABLISHED"))
        #expect(records[0]["tcp_new_state"] == .string("ESTABLISHED"))
    }

    @Test func aCounterThatGoesBackIsNoWrap() {
        // Tuple drops joined the flow at one flush, and their entry went with a closed twin before
        // the next: the flow's count falls from 3 to 1, then grows to 2.
        var tracker = TCPIntervalTracker()
        var s = flow(transitions: [(7, 2), (2, 1)], tx: 500)
        s.drops = 3
        _ = tracker.flush(live: [s], closed: [], endedEpoch: 0, nowMonotonicNs: 1000, context: context)
        s.drops = 1
        s.txBytes = 600
        let fell = tracker.flush(live: [s], closed: [], endedEpoch: 1, nowMonotonicNs: 2000, context: context)
        #expect(fell.map { $0["tcp_drop"] } == [.uint(0)])
        s.drops = 2
        let grew = tracker.flush(live: [s], closed: [], endedEpoch: 2, nowMonotonicNs: 3000, context: context)
        #expect(grew.map { $0["tcp_drop"] } == [.uint(1)])
    }

    @Test func closedFlowEndsWithItsFinalDeltaAndFailure() {
        var tracker = TCPIntervalTracker()
        var s = flow(transitions: [(7, 2)])
        _ = tracker.flush(live: [s], closed: [], endedEpoch: 0, nowMonotonicNs: 1000, context: context)
        s.append(2, 7)
        s.closedNs = 1500
        s.socketError = 111
        let records = tracker.flush(live: [], closed: [s], endedEpoch: 1, nowMonotonicNs: 2000, context: context)
        #expect(records.count == 1)
        #expect(records[0]["tcp_new_state"] == .string("CLOSE"))
        #expect(records[0]["tcp_closed"] == .bool(true))
        #expect(records[0]["tcp_error"] == .string("ECONNREFUSED"))
        #expect(records[0]["tcp_connect_failed"] == .bool(true))
        #expect(records[0]["tcp_span_time"] == .uint(1400))
    }

    @Test func overwrittenTransitionsAreCounted() {
        var tracker = TCPIntervalTracker()
        var s = flow()
        for _ in 0..<(TCPFlowSample.ringCapacity + 3) { s.append(1, 1) }
        let records = tracker.flush(live: [s], closed: [], endedEpoch: 0, nowMonotonicNs: 1000, context: context)
        #expect(records.count == TCPFlowSample.ringCapacity)
        #expect(tracker.transitionsLost == 3)
    }

    @Test func rttRangeComesFromTheEndedEpochSlot() {
        var tracker = TCPIntervalTracker()
        var s = flow(tx: 1)
        s.srttUs = 50
        s.rttSlotEpoch = (4, 3)
        s.rttMinUs = (40, 30)
        s.rttMaxUs = (60, 70)
        let r3 = tracker.flush(live: [s], closed: [], endedEpoch: 3, nowMonotonicNs: 10, context: context)
        #expect(r3[0]["tcp_rtt"] == .uint(50_000))
        #expect(r3[0]["tcp_rtt_min"] == .uint(30_000))
        #expect(r3[0]["tcp_rtt_max"] == .uint(70_000))
        s.txBytes = 2
        let r5 = tracker.flush(live: [s], closed: [], endedEpoch: 5, nowMonotonicNs: 20, context: context)
        #expect(r5[0]["tcp_rtt_min"] == nil) // slot 1 holds epoch 3: no samples in epoch 5
    }

    @Test func dropReasonsAreNamed() {
        var tracker = TCPIntervalTracker()
        tracker.dropReasonNames = [6: "SKB_DROP_REASON_NETFILTER_DROP"]
        var s = flow(tx: 1)
        s.drops = 2
        s.dropReasons = [6]
        let r = tracker.flush(live: [s], closed: [], endedEpoch: 0, nowMonotonicNs: 10, context: context)
        #expect(r[0]["tcp_drop"] == .uint(2))
        #expect(r[0]["tcp_drop_reasons"] == .array([.string("NETFILTER_DROP")]))
    }

    @Test func aReusedSocketAddressIsANewFlow() {
        var tracker = TCPIntervalTracker()
        var old = flow(tx: 100)
        _ = tracker.flush(live: [old], closed: [], endedEpoch: 0, nowMonotonicNs: 10, context: context)
        old.startNs = 999 // same sock pointer, new life
        old.txBytes = 40
        let r = tracker.flush(live: [old], closed: [], endedEpoch: 1, nowMonotonicNs: 20, context: context)
        #expect(r[0]["tcp_tx_bytes"] == .uint(40))
    }
}

@Suite struct UDPIntervalTrackerTests {
    @Test func deltasDurationAndExpiry() {
        var tracker = UDPIntervalTracker()
        var s = UDPFlowSample(key: [1, 2, 3], endpoints: endpoints(role: 1), owner: Owner(pid: 1, comm: "dig", cgroupID: 2),
                              firstNs: 1000, lastNs: 1500, txBytes: 60, rxBytes: 120, txPackets: 1, rxPackets: 1)
        var out = tracker.flush([s], nowMonotonicNs: 2000, idleTimeoutNs: 10_000, context: context)
        #expect(out.records.count == 1)
        #expect(out.records[0]["udp_tx_bytes"] == .uint(60))
        #expect(out.records[0]["udp_rx_bytes"] == .uint(120))
        #expect(out.records[0]["udp_duration"] == .uint(500))
        #expect(out.expired.isEmpty)
        s.txBytes = 100
        s.txPackets = 2
        s.lastNs = 3000
        out = tracker.flush([s], nowMonotonicNs: 3500, idleTimeoutNs: 10_000, context: context)
        #expect(out.records[0]["udp_tx_bytes"] == .uint(40))
        #expect(out.records[0]["udp_rx_bytes"] == .uint(0))
        out = tracker.flush([s], nowMonotonicNs: 20_000, idleTimeoutNs: 10_000, context: context)
        #expect(out.records.isEmpty)
        #expect(out.expired == [[1, 2, 3]])
    }
}

@Suite struct LossTrackerTests {
    @Test func reportsDeltasWithTotals() {
        var tracker = LossTracker()
        #expect(tracker.flush(totals: ["a": 0], nowMonotonicNs: 1, context: context).isEmpty)
        let r = tracker.flush(totals: ["a": 5], nowMonotonicNs: 2, context: context)
        #expect(r.count == 1)
        #expect(r[0]["reason"] == .string("a"))
        #expect(r[0]["count"] == .uint(5))
        #expect(r[0]["total"] == .uint(5))
        #expect(tracker.flush(totals: ["a": 5], nowMonotonicNs: 3, context: context).isEmpty)
    }
}

@Suite struct DropAttributionTests {
    private func sample(port: UInt16, drops: UInt32 = 0) -> TCPFlowSample {
        var s = TCPFlowSample(sock: UInt64(port), endpoints: Endpoints(localAddr: [10, 0, 0, 2] + Array(repeating: 0, count: 12),
                                                                      remoteAddr: [10, 0, 0, 1] + Array(repeating: 0, count: 12),
                                                                      localPort: port, remotePort: 5555, ipVersion: 4, netns: 9),
                              owner: Owner(pid: 1, comm: "srv", cgroupID: 1))
        s.drops = drops
        s.dropReasons = drops > 0 ? [2] : []
        return s
    }

    @Test func tupleDropsJoinTheirFlowAndTheRestAreUnattributed() {
        let live = sample(port: 80, drops: 1), closed = sample(port: 81)
        let stray = DropAttribution.tupleKey(sample(port: 99).endpoints)
        let result = DropAttribution.merge(
            live: [live], closed: [closed],
            drops: [DropAttribution.tupleKey(live.endpoints): .init(drops: 3, lastReason: 6, reasons: [6]),
                    DropAttribution.tupleKey(closed.endpoints): .init(drops: 2, lastReason: 6, reasons: [6]),
                    stray: .init(drops: 4, lastReason: 6, reasons: [6])])
        #expect(result.live[0].drops == 4)
        #expect(result.live[0].dropReasons == [2, 6])
        #expect(result.closed[0].drops == 2)
        #expect(result.unattributed == 4)
        // A live flow keeps its tuple entry (counts are cumulative); closed and stray ones go.
        #expect(Set(result.finishedKeys) == [DropAttribution.tupleKey(closed.endpoints), stray])
    }
}
