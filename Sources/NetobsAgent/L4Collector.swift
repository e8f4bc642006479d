import CNetobsLayout
import NetobsKernel
import NetobsPrograms
import NetobsRecords

/// Loads the L4 programs, and at every flush turns the kernel's aggregates into records:
/// TCP flows read in batches from their map, closed flows from the ring buffer, UDP flows,
/// and the kernel's loss counters.
public final class L4Collector {
    public struct Options: Sendable {
        public var node: String
        public var cgroupRoot: String?
        public var udpIdleTimeoutNs: UInt64
        /// Capacity of the kernel flow maps; past it, new flows are counted as lost.
        public var maxTCPFlows: Int
        public var maxUDPFlows: Int

        public init(node: String, cgroupRoot: String? = CgroupMount.v2Root(), udpIdleTimeoutNs: UInt64 = 60_000_000_000,
                    maxTCPFlows: Int = 65536, maxUDPFlows: Int = 65536) {
            self.node = node
            self.cgroupRoot = cgroupRoot
            self.udpIdleTimeoutNs = udpIdleTimeoutNs
            self.maxTCPFlows = maxTCPFlows
            self.maxUDPFlows = maxUDPFlows
        }
    }

    private let object: BPFObject
    private let tcpFlows: BPFMap
    private let tcpTuples: BPFMap
    private let udpFlows: BPFMap
    private let losses: BPFMap
    private let config: BPFMap
    private var ring: RingBuffer?
    private var closed: [TCPFlowSample] = []
    private var epoch: UInt32 = 0
    private var tcp = TCPIntervalTracker()
    private var udp = UDPIntervalTracker()
    private var loss = LossTracker()
    private let options: Options
    public let context: RecordContext
    /// Metrics that are off on this kernel, with the reason.
    public private(set) var disabled: [String] = []

    public init(options: Options) throws {
        self.options = options
        context = RecordContext(node: options.node, monotonicToUnixNs: Clock.monotonicToUnixOffset())
        let btf = try KernelBTF()
        object = try BPFObject(bytes: EmbeddedPrograms.l4.bytes, name: L4Programs.objectName)
        for program in object.programs {
            if let tracepoint = program.tracepoint, !btf.hasTracepoint(tracepoint) {
                program.autoload = false
                let metrics = L4Programs.metricsByTracepoint[tracepoint] ?? []
                disabled.append("tracepoint \(tracepoint) is missing: off: \(metrics.joined(separator: ", "))")
            } else if program.isCgroupProgram && options.cgroupRoot == nil {
                program.autoload = false
                disabled.append("no cgroup v2 mount: off: \(L4Programs.cgroupHooksPurpose)")
            }
        }
        try object.map(named: L4Programs.Maps.tcpFlows).setMaxEntries(options.maxTCPFlows)
        try object.map(named: L4Programs.Maps.tcpTuples).setMaxEntries(options.maxTCPFlows)
        try object.map(named: L4Programs.Maps.udpFlows).setMaxEntries(options.maxUDPFlows)
        try object.load()
        for program in object.programs where program.autoload {
            if program.isCgroupProgram, let root = options.cgroupRoot {
                try object.attach(program, cgroup: root)
            } else {
                try object.attach(program)
            }
        }
        tcpFlows = try object.map(named: L4Programs.Maps.tcpFlows)
        tcpTuples = try object.map(named: L4Programs.Maps.tcpTuples)
        udpFlows = try object.map(named: L4Programs.Maps.udpFlows)
        losses = try object.map(named: L4Programs.Maps.losses)
        config = try object.map(named: L4Programs.Maps.config)
        tcp.dropReasonNames = btf.enumerators(of: "skb_drop_reason")
        ring = try RingBuffer(map: try object.map(named: L4Programs.Maps.tcpClosed)) { [unowned self] raw in
            if let sample = TCPFlowSample(raw: raw) { self.closed.append(sample) }
        }
    }

    deinit { close() }

    /// Collects closed flows as they come (keeps the ring buffer from filling between flushes).
    public func poll(timeoutMs: Int32) throws {
        try ring?.poll(timeoutMs: timeoutMs)
    }

    /// The records of the interval that ends now.
    public func flush() throws -> [Record] {
        let endedEpoch = epoch
        epoch &+= 1
        try writeConfig()
        try ring?.consume()

        var live: [TCPFlowSample] = []
        var closedInMap: [TCPFlowSample] = []
        var closedKeys: [[UInt8]] = []
        try tcpFlows.forEach { key, value in
            guard let sample = TCPFlowSample(raw: value) else { return }
            if sample.closedNs != 0 {
                closedInMap.append(sample) // the ring buffer was full when it closed
                closedKeys.append(Array(key))
            } else {
                live.append(sample)
            }
        }
        try ring?.consume()
        let now = Clock.monotonicNs()
        var records = tcp.flush(live: live, closed: closed + closedInMap, endedEpoch: endedEpoch,
                                nowMonotonicNs: now, context: context)
        closed.removeAll(keepingCapacity: true)
        tcpFlows.delete(keys: closedKeys)
        tcpTuples.delete(keys: closedInMap.map(Self.tupleKey))

        var udpSamples: [UDPFlowSample] = []
        try udpFlows.forEach { key, value in
            if let sample = UDPFlowSample(key: key, value: value) { udpSamples.append(sample) }
        }
        let (udpRecords, expired) = udp.flush(udpSamples, nowMonotonicNs: now,
                                              idleTimeoutNs: options.udpIdleTimeoutNs, context: context)
        records += udpRecords
        udpFlows.delete(keys: expired)

        records += loss.flush(totals: lossTotals(), nowMonotonicNs: now, context: context)
        return records
    }

    public func close() {
        ring?.close()
        ring = nil
        object.close()
    }

    private func lossTotals() -> [String: UInt64] {
        let kernel = losses.perCPUSums(count: Int(NETOBS_LOSS_COUNT.rawValue))
        var totals: [String: UInt64] = [:]
        for (i, name) in LossTracker.kernelReasons.enumerated() where i < kernel.count {
            totals[name] = kernel[i]
        }
        totals["tcp_transition_ring_overwritten"] = tcp.transitionsLost
        return totals
    }

    private func writeConfig() throws {
        var value = netobs_config()
        value.rtt_epoch = epoch
        let bytes = withUnsafeBytes(of: value) { Array($0) }
        try config.update(key: [0, 0, 0, 0], value: bytes)
    }

    /// The `struct netobs_tuple` key of a flow, to remove its drop-attribution entry.
    static func tupleKey(_ s: TCPFlowSample) -> [UInt8] {
        var t = netobs_tuple()
        withUnsafeMutableBytes(of: &t.local_addr) { $0.copyBytes(from: s.endpoints.localAddr) }
        withUnsafeMutableBytes(of: &t.remote_addr) { $0.copyBytes(from: s.endpoints.remoteAddr) }
        t.local_port = s.endpoints.localPort
        t.remote_port = s.endpoints.remotePort
        t.netns = s.endpoints.netns
        return withUnsafeBytes(of: t) { Array($0) }
    }
}
