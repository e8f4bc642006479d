/// Turns cumulative per-(socket, peer) UDP aggregates into per-interval records, and picks
/// the flows idle long enough to be removed from the kernel map.
public struct UDPIntervalTracker: Sendable {
    struct FlowID: Hashable, Sendable {
        var key: [UInt8]
        var first: UInt64
    }

    struct Seen: Sendable {
        var tx: UInt64, rx: UInt64, txPackets: UInt64, rxPackets: UInt64
    }

    private var seen: [FlowID: Seen] = [:]
    private var fieldsOff: Set<String> = []
    /// Table-1 metrics this host cannot give: left out of the records.
    public var metricsOff: Set<String> = [] { didSet { fieldsOff = MetricsOff.fields(metricsOff) } }

    public init() {}

    /// - Returns: the records, and the map keys of flows idle for `idleTimeoutNs` (to delete).
    public mutating func flush(_ samples: [UDPFlowSample], nowMonotonicNs now: UInt64, idleTimeoutNs: UInt64,
                               context: RecordContext) -> (records: [Record], expired: [[UInt8]]) {
        var records: [Record] = []
        var expired: [[UInt8]] = []
        var present = Set<FlowID>()
        for s in samples {
            let id = FlowID(key: s.key, first: s.firstNs)
            present.insert(id)
            let p = seen[id] ?? Seen(tx: 0, rx: 0, txPackets: 0, rxPackets: 0)
            let dTx = s.txBytes &- p.tx, dRx = s.rxBytes &- p.rx
            let dTxP = s.txPackets &- p.txPackets, dRxP = s.rxPackets &- p.rxPackets
            seen[id] = Seen(tx: s.txBytes, rx: s.rxBytes, txPackets: s.txPackets, rxPackets: s.rxPackets)
            if dTxP > 0 || dRxP > 0 {
                var r = context.flowRecord(kind: "udp", monotonicNs: now, endpoints: s.endpoints, owner: s.owner)
                r.set("udp_rx_bytes", .uint(dRx))
                r.set("udp_tx_bytes", .uint(dTx))
                r.set("udp_rx_packets", .uint(dRxP))
                r.set("udp_tx_packets", .uint(dTxP))
                r.set("udp_duration", .uint(s.lastNs >= s.firstNs ? s.lastNs - s.firstNs : 0))
                r.remove(fieldsOff)
                records.append(r)
            }
            if now > s.lastNs && now - s.lastNs > idleTimeoutNs {
                expired.append(s.key)
                seen[id] = nil
            }
        }
        seen = seen.filter { present.contains($0.key) }
        return (records, expired)
    }
}
