import CNetobsLayout
import NetobsKernel
import NetobsPrograms
import NetobsRecords

/// Loads the L4 programs, and at every flush turns the kernel's aggregates into records:
/// live TCP flows from one pass of the socket-storage iterator, closed ones from the ring
/// buffer, drops counted by tuple, UDP flows read in batches, and the kernel's loss counters.
public final class L4Collector {
    public struct Options: Sendable {
        public var node: String
        public var cgroupRoot: String?
        public var udpIdleTimeoutNs: UInt64
        /// Caps on the kernel's flow tables; past them, new flows are counted as lost.
        public var maxTCPFlows: Int
        public var maxUDPFlows: Int
        /// Tracepoints not to hook, by name (the metrics they feed are off).
        public var disabledTracepoints: Set<String> = []

        public init(node: String, cgroupRoot: String? = CgroupMount.v2Root(), udpIdleTimeoutNs: UInt64 = 60_000_000_000,
                    maxTCPFlows: Int = 65536, maxUDPFlows: Int = 65536) {
            self.node = node
            self.cgroupRoot = cgroupRoot
            self.udpIdleTimeoutNs = udpIdleTimeoutNs
            self.maxTCPFlows = maxTCPFlows
            self.maxUDPFlows = maxUDPFlows
        }
    }

    private var loaded: LoadedL4
    private let btf: KernelBTF
    private var ring: RingBuffer?
    private var closed: [TCPFlowSample] = []
    private var epoch: UInt32 = 0
    private var tcp = TCPIntervalTracker()
    private var udp = UDPIntervalTracker()
    private var loss = LossTracker()
    private var unattributedDrops: UInt64 = 0
    private let options: Options
    public let context: RecordContext
    /// The tracepoints the L4 programs hook.
    public static var tracepoints: [String] { L4Programs.metricsByTracepoint.keys.sorted() }
    /// Metrics that are off on this kernel, with the reason.
    public private(set) var disabled: [String] = []

    public init(options: Options) throws {
        self.options = options
        context = RecordContext(node: options.node, monotonicToUnixNs: Clock.monotonicToUnixOffset())
        btf = try KernelBTF()
        loaded = try LoadedL4(bytes: EmbeddedPrograms.l4.bytes, generation: 0, options: options, btf: btf,
                              sharingMapsWith: nil)
        disabled = loaded.disabled
        tcp.dropReasonNames = btf.enumerators(of: "skb_drop_reason")
        try writeConfig()
        ring = try makeRing()
    }

    /// The generation of the programs doing the work now (0 for the first load).
    public var generation: UInt32 { loaded.generation }

    /// Replaces the kernel programs with a new copy (`bytes`, or the embedded ones again)
    /// while traffic flows: the new copy is loaded on the same maps, so flows and counters
    /// carry over; it becomes active in one map write, so no event is missed or counted
    /// twice; then the old copy is detached. If the new copy fails to load (the error carries
    /// the verifier log), the old one keeps working untouched.
    public func swapPrograms(bytes: [UInt8] = EmbeddedPrograms.l4.bytes) throws {
        let next = try LoadedL4(bytes: bytes, generation: loaded.generation &+ 1, options: options, btf: btf,
                                sharingMapsWith: loaded)
        try ring?.consume()
        let previous = loaded
        loaded = next
        try writeConfig() // the flip: from here on only the new copy works
        ring?.close()
        ring = try makeRing()
        previous.close()
    }

    private func makeRing() throws -> RingBuffer {
        try RingBuffer(map: loaded.closedRing) { [unowned self] raw in
            if let sample = TCPFlowSample(raw: raw) { self.closed.append(sample) }
        }
    }

    deinit { close() }

    /// Collects the flows closed since the last call. The kernel does not wake us per close
    /// (cheaper under connection churn): call this every few tens of milliseconds so the
    /// ring buffer never fills between flushes.
    public func drainClosed() throws {
        try ring?.consume()
    }

    /// The records of the interval that ends now.
    public func flush() throws -> [Record] {
        let endedEpoch = epoch
        epoch &+= 1
        try writeConfig()
        try ring?.consume()

        var live: [TCPFlowSample] = []
        var closedUnsent: [TCPFlowSample] = []
        let dumped = try loaded.tcpDump.read()
        let size = MemoryLayout<netobs_tcp_flow>.size
        dumped.withUnsafeBytes { raw in
            for offset in stride(from: 0, to: raw.count - size + 1, by: size) {
                guard let sample = TCPFlowSample(raw: UnsafeRawBufferPointer(rebasing: raw[offset..<(offset + size)]))
                else { continue }
                // A closed flow here is one the ring buffer had no room for.
                if sample.closedNs != 0 { closedUnsent.append(sample) } else { live.append(sample) }
            }
        }
        try ring?.consume()
        var drops: [[UInt8]: DropAttribution.TupleDrops] = [:]
        try loaded.tcpDrops.forEach { key, value in
            if let d = DropAttribution.TupleDrops(raw: value) { drops[Array(key)] = d }
        }
        let merged = DropAttribution.merge(live: live, closed: closed + closedUnsent, drops: drops)
        closed.removeAll(keepingCapacity: true)
        loaded.tcpDrops.delete(keys: merged.finishedKeys)
        unattributedDrops += merged.unattributed

        let now = Clock.monotonicNs()
        var records = tcp.flush(live: merged.live, closed: merged.closed, endedEpoch: endedEpoch,
                                nowMonotonicNs: now, context: context)

        var udpSamples: [UDPFlowSample] = []
        try loaded.udpFlows.forEach { key, value in
            if let sample = UDPFlowSample(key: key, value: value) { udpSamples.append(sample) }
        }
        let (udpRecords, expired) = udp.flush(udpSamples, nowMonotonicNs: now,
                                              idleTimeoutNs: options.udpIdleTimeoutNs, context: context)
        records += udpRecords
        loaded.udpFlows.delete(keys: expired)

        records += loss.flush(totals: lossTotals(), nowMonotonicNs: now, context: context)
        return records
    }

    public func close() {
        ring?.close()
        ring = nil
        loaded.close()
    }

    private func lossTotals() -> [String: UInt64] {
        let kernel = loaded.losses.perCPUSums(count: Int(NETOBS_LOSS_COUNT.rawValue))
        var totals: [String: UInt64] = [:]
        for (i, name) in LossTracker.kernelReasons.enumerated() where i < kernel.count {
            totals[name] = kernel[i]
        }
        totals["tcp_transition_ring_overwritten"] = tcp.transitionsLost
        totals["tcp_drop_without_flow"] = unattributedDrops
        return totals
    }

    /// Applies `rules` through the kernel's filter maps, with no program reload: flows created
    /// from here on follow them (the maps survive a program swap). The sets are written before
    /// the modes that use them.
    public func apply(_ rules: CollectionRules) throws {
        try RuleMaps.sync(loaded.rulePorts, to: Set((rules.ports?.values ?? []).map { RuleMaps.bytes(of: $0) }))
        try RuleMaps.sync(loaded.ruleCgroups, to: Set((rules.cgroups?.values ?? []).map { RuleMaps.bytes(of: $0) }))
        try loaded.rules.update(key: [0, 0, 0, 0], value: RuleMaps.value(of: rules))
    }

    private func writeConfig() throws {
        var value = netobs_config()
        value.rtt_epoch = epoch
        value.max_tcp_flows = UInt32(clamping: options.maxTCPFlows)
        value.generation = loaded.generation
        let bytes = withUnsafeBytes(of: value) { Array($0) }
        try loaded.config.update(key: [0, 0, 0, 0], value: bytes)
    }
}
