/// Turns cumulative per-socket TCP aggregates into per-interval records.
///
/// Each flush yields, per flow that changed: one record per state transition since the last
/// flush (in order), the last of them carrying the interval's counters; or a single record
/// (old state = new state) when no transition happened. Counters are deltas, so summing a
/// flow's records gives its totals.
public struct TCPIntervalTracker: Sendable {
    struct Seen: Sendable {
        var tx: UInt64 = 0, rx: UInt64 = 0
        var retransmits: UInt32 = 0, tlp: UInt32 = 0, drops: UInt32 = 0
        var transitionCount: UInt32 = 0
    }

    struct FlowID: Hashable, Sendable {
        var sock: UInt64
        var start: UInt64
    }

    /// The last counters reported per live flow, kept until the flow closes: the kernel hands
    /// over only the flows that changed, so an idle flow is absent from most reads.
    private var seen: [FlowID: Seen] = [:]
    /// Flows reported closed, by the flush that did: a close read from both the ring buffer
    /// and the flow table (the kernel was between the two writes) is reported once.
    private var closedAt: [FlowID: UInt64] = [:]
    private var flushes: UInt64 = 0
    private var fieldsOff: Set<String> = []
    /// Table-1 metrics this host cannot give: left out of the records.
    public var metricsOff: Set<String> = [] { didSet { fieldsOff = MetricsOff.fields(metricsOff) } }
    /// Transitions that the kernel's ring overwrote before a flush read them.
    public private(set) var transitionsLost: UInt64 = 0
    public var dropReasonNames: [Int64: String] = [:]

    public init() {}

    /// Live flows being followed (reported at least once, not closed).
    public var liveFlows: Int { seen.count }

    /// - Parameters:
    ///   - live: flows read from the kernel now (not closed): those that changed, or all of them
    ///     when `complete`.
    ///   - closed: flows that closed since the last flush (ring buffer, or left in the map).
    ///   - endedEpoch: the RTT epoch this flush ended.
    ///   - complete: `live` holds every live flow of the kernel's table, so a flow followed but
    ///     absent left the table without a close record (a loss the kernel counted): forget it.
    public mutating func flush(live: [TCPFlowSample], closed: [TCPFlowSample], endedEpoch: UInt32,
                               nowMonotonicNs: UInt64, context: RecordContext, complete: Bool = false) -> [Record] {
        flushes += 1
        var records: [Record] = []
        for sample in live {
            records += update(sample, closed: false, endedEpoch: endedEpoch, now: nowMonotonicNs, context: context)
        }
        for sample in closed {
            records += update(sample, closed: true, endedEpoch: endedEpoch, now: nowMonotonicNs, context: context)
        }
        if complete {
            let present = Set(live.map { FlowID(sock: $0.sock, start: $0.startNs) })
            seen = seen.filter { present.contains($0.key) }
        }
        closedAt = closedAt.filter { flushes - $0.value < 2 }
        return records
    }

    /// Counters only grow, but a flow's drops include its tuple's socketless drops, whose map entry
    /// goes when another flow with the same tuple closes: a count lower than last time is nothing
    /// new, not a wrap to ~2^32 new drops (seen in a real demo run: tcp_drop 4294967295).
    static func delta<T: FixedWidthInteger & UnsignedInteger>(_ now: T, _ before: T) -> T {
        now >= before ? now - before : 0
    }

    private mutating func update(_ s: TCPFlowSample, closed: Bool, endedEpoch: UInt32, now: UInt64,
                                 context: RecordContext) -> [Record] {
        let id = FlowID(sock: s.sock, start: s.startNs)
        if closedAt[id] != nil { return [] }
        let previous = seen[id]
        let p = previous ?? Seen()
        let transitions = newTransitions(s, since: p.transitionCount)
        let dTx = Self.delta(s.txBytes, p.tx), dRx = Self.delta(s.rxBytes, p.rx)
        let dRetransmits = Self.delta(s.retransmits, p.retransmits), dTLP = Self.delta(s.tlp, p.tlp)
        let dDrops = Self.delta(s.drops, p.drops)

        if closed {
            seen[id] = nil
            closedAt[id] = flushes
        } else {
            seen[id] = Seen(tx: s.txBytes, rx: s.rxBytes, retransmits: s.retransmits, tlp: s.tlp,
                            drops: s.drops, transitionCount: s.transitionCount)
        }
        let changed = previous == nil || closed || !transitions.isEmpty
            || dTx > 0 || dRx > 0 || dRetransmits > 0 || dTLP > 0 || dDrops > 0
        guard changed else { return [] }

        var records = transitions.map { t in
            var r = context.flowRecord(kind: "tcp", monotonicNs: t.tsNs, endpoints: s.endpoints, owner: s.owner)
            r.set("tcp_old_state", .string(KernelNames.tcpState(t.oldState)))
            r.set("tcp_new_state", .string(KernelNames.tcpState(t.newState)))
            r.set("tcp_old_state_duration", .uint(t.oldStateNs))
            return r
        }
        if records.isEmpty {
            var r = context.flowRecord(kind: "tcp", monotonicNs: now, endpoints: s.endpoints, owner: s.owner)
            r.set("tcp_old_state", .string(KernelNames.tcpState(s.state)))
            r.set("tcp_new_state", .string(KernelNames.tcpState(s.state)))
            records.append(r)
        }
        let end = closed && s.closedNs > 0 ? s.closedNs : now
        let span = s.startNs > 0 && end > s.startNs ? end - s.startNs : 0
        for i in records.indices {
            let last = i == records.count - 1
            records[i].set("tcp_rx_bytes", .uint(last ? dRx : 0))
            records[i].set("tcp_tx_bytes", .uint(last ? dTx : 0))
            records[i].set("tcp_span_time", .uint(span))
            records[i].set("tcp_drop", .uint(UInt64(last ? dDrops : 0)))
            records[i].set("tcp_tlp", .uint(UInt64(last ? dTLP : 0)))
            records[i].set("tcp_retransmit", .uint(UInt64(last ? dRetransmits : 0)))
            records[i].set("tcp_rtt", .uint(UInt64(s.srttUs) * 1000))
        }
        var last = records[records.count - 1]
        if let range = rttRange(s, epoch: endedEpoch) {
            last.set("tcp_rtt_min", .uint(UInt64(range.min) * 1000))
            last.set("tcp_rtt_max", .uint(UInt64(range.max) * 1000))
        }
        if dDrops > 0 {
            last.set("tcp_drop_reasons", .array(s.dropReasons.map { .string(dropReasonName($0)) }))
        }
        if closed {
            last.set("tcp_closed", .bool(true))
            if s.socketError != 0 { last.set("tcp_error", .string(KernelNames.errno(s.socketError))) }
            if let close = transitions.last(where: { $0.newState == KernelNames.tcpClose }),
               close.oldState == KernelNames.tcpSynSent || close.oldState == 3 /* SYN_RECV */ {
                last.set("tcp_connect_failed", .bool(true))
            }
        }
        records[records.count - 1] = last
        for i in records.indices { records[i].remove(fieldsOff) }
        return records
    }

    /// Transitions with sequence numbers in [since, count), those still in the ring.
    private mutating func newTransitions(_ s: TCPFlowSample, since: UInt32) -> [StateTransition] {
        let capacity = UInt32(TCPFlowSample.ringCapacity)
        guard s.transitionCount > since, s.transitionRing.count == Int(capacity) else { return [] }
        let oldestKept = s.transitionCount > capacity ? s.transitionCount - capacity : 0
        if since < oldestKept { transitionsLost += UInt64(oldestKept - since) }
        return (max(since, oldestKept)..<s.transitionCount).map { s.transitionRing[Int($0 % capacity)] }
    }

    private func rttRange(_ s: TCPFlowSample, epoch: UInt32) -> (min: UInt32, max: UInt32)? {
        if epoch & 1 == 0 {
            return s.rttSlotEpoch.0 == epoch && s.rttMinUs.0 > 0 ? (s.rttMinUs.0, s.rttMaxUs.0) : nil
        }
        return s.rttSlotEpoch.1 == epoch && s.rttMinUs.1 > 0 ? (s.rttMinUs.1, s.rttMaxUs.1) : nil
    }

    private func dropReasonName(_ reason: UInt32) -> String {
        guard let name = dropReasonNames[Int64(reason)] else { return "REASON_\(reason)" }
        return name.hasPrefix("SKB_DROP_REASON_") ? String(name.dropFirst("SKB_DROP_REASON_".count)) : name
    }
}
