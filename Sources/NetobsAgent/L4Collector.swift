import CNetobsLayout
import NetobsKernel
import NetobsPrograms
import NetobsRecords
import NetobsWire

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
        /// `--hooks`: the tier to load, or the best the kernel allows.
        public var hooks: HookTierRequest = .auto
        /// Rules in force from the first event: written into the filter maps after the programs
        /// load and before they attach, so no flow escapes them at start.
        public var initialRules: CollectionRules?
        /// Every this many flushes the agent reads every live flow, not only the changed ones,
        /// to forget flows that left the kernel's table without a close record.
        public var fullReadEvery: Int = 30

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
    /// Closed flows, drained from the ring buffer by a thread of their own.
    private var closedFlows: RingDrainer<TCPFlowSample>?
    private var epoch: UInt32 = 0
    private var tcp = TCPIntervalTracker()
    private var udp = UDPIntervalTracker()
    private var loss = LossTracker()
    private var unattributedDrops: UInt64 = 0
    private var flushes = 0
    private let options: Options
    private let context: RecordContext
    /// The tracepoints the L4 programs hook.
    public static var tracepoints: [String] { L4Programs.tracepoints.sorted() }
    /// The tier the programs were loaded on.
    public var tier: HookTier { loaded.tier }
    /// Every L4 hook on this host: its tier, or off with the reason.
    public var hooks: [HookStatus] { loaded.reports }
    /// Why the preferred tier was not used ("" when it was).
    public private(set) var fallback = ""

    public init(options: Options, context: RecordContext, features: KernelFeatures) throws {
        self.options = options
        self.context = context
        btf = try KernelBTF()
        (loaded, fallback) = try Self.load(options: options, btf: btf, features: features, attach: true)
        let off = Set(loaded.reports.flatMap(\.metricsOff))
        tcp.metricsOff = off
        udp.metricsOff = off
        tcp.dropReasonNames = btf.enumerators(of: "skb_drop_reason")
        try writeConfig()
        closedFlows = try RingDrainer(map: loaded.closedRing) { TCPFlowSample(raw: $0) }
    }

    /// The tier the operator asked for cannot load here: a configuration error, not a degraded run.
    public struct TierRefused: Error, CustomStringConvertible {
        public let description: String
    }

    /// Every L4 hook, off for `reason` (when the object does not load at all).
    public static func allOff(reason: String) -> [HookStatus] {
        L4Programs.hooks.map { HookStatus(hook: $0.name, tier: "off", programType: "", metricsOff: $0.metrics, reason: reason) }
    }

    /// Loads on the best tier `options.hooks` allows; returns the copy and why a better tier
    /// was not used. `attach` false only loads (what `--features` reports).
    static func load(options: Options, btf: KernelBTF, features: KernelFeatures,
                     attach: Bool) throws -> (LoadedL4, fallback: String) {
        let candidates = options.hooks.candidates(tracingAllowed: features.allows("tracing"))
        if options.hooks == .btf && !features.allows("tracing") {
            throw TierRefused(description: "--hooks btf: this kernel refuses BPF tracing programs (program type "
                + "tracing is not available; `bpftool feature probe kernel` tells); use --hooks auto or portable")
        }
        var fallback = options.hooks == .auto && !features.allows("tracing")
            ? "the kernel refuses BPF tracing programs" : ""
        for (i, tier) in candidates.enumerated() {
            do {
                let copy = try LoadedL4(bytes: EmbeddedPrograms.l4.bytes, generation: 0, tier: tier, options: options,
                                        btf: btf, sharingMapsWith: nil, attach: attach)
                return (copy, fallback)
            } catch let error as KernelError where i + 1 < candidates.count {
                fallback = "the \(tier.rawValue) tier did not load (\(error.summary))"
                AgentLog.warning("\(fallback); trying the \(candidates[i + 1].rawValue) tier")
            }
        }
        preconditionFailure("candidates(tracingAllowed:) is never empty")
    }

    /// The generation of the programs doing the work now (0 for the first load).
    public var generation: UInt32 { loaded.generation }

    /// Flows followed now: TCP ones reported and not closed, UDP ones in the kernel table.
    public var tcpFlows: Int { tcp.liveFlows }
    public private(set) var udpFlows = 0
    /// The UDP flow map, counted into by the L7 programs (the same kernel map across swaps).
    var udpFlowMap: BPFMap { loaded.udpFlows }

    /// Replaces the kernel programs with a new copy (`bytes`, or the embedded ones again)
    /// while traffic flows: the new copy is loaded on the same maps, so flows and counters
    /// carry over; it becomes active in one map write, so no event is missed or counted
    /// twice; then the old copy is detached. If the new copy fails to load (the error carries
    /// the verifier log), the old one keeps working untouched.
    public func swapPrograms(bytes: [UInt8] = EmbeddedPrograms.l4.bytes) throws {
        let next = try LoadedL4(bytes: bytes, generation: loaded.generation &+ 1, tier: loaded.tier, options: options,
                                btf: btf, sharingMapsWith: loaded)
        let previous = loaded
        loaded = next
        try writeConfig() // the flip: from here on only the new copy works
        previous.close() // the drainer reads the shared ring through a descriptor of its own
    }

    deinit { close() }

    /// The records of the interval that ends now. `final`: the last flush before `close()`,
    /// which first drains the closed-flow ring to its end.
    public func flush(final: Bool = false) throws -> [Record] {
        if final { closedFlows?.stop() }
        let endedEpoch = epoch
        epoch &+= 1
        flushes += 1
        let complete = flushes % max(1, options.fullReadEvery) == 0
        try writeConfig(fullDump: complete)
        let (live, closedUnsent) = try readFlows(complete: complete)
        let closed = try closedFlows?.take() ?? []
        var drops: [[UInt8]: DropAttribution.TupleDrops] = [:]
        try loaded.tcpDrops.forEach { key, value in
            if let d = DropAttribution.TupleDrops(raw: value) { drops[Array(key)] = d }
        }
        let merged = DropAttribution.merge(live: live, closed: closed + closedUnsent.map(\.sample), drops: drops)
        if let flows = loaded.tcpFlows { flows.delete(keys: closedUnsent.map(\.key)) }
        loaded.tcpDrops.delete(keys: merged.finishedKeys)
        unattributedDrops += merged.unattributed

        let now = Clock.monotonicNs()
        var records = tcp.flush(live: merged.live, closed: merged.closed, endedEpoch: endedEpoch,
                                nowMonotonicNs: now, context: context, complete: complete)

        var udpSamples: [UDPFlowSample] = []
        try loaded.udpFlows.forEach { key, value in
            if let sample = UDPFlowSample(key: key, value: value) { udpSamples.append(sample) }
        }
        let (udpRecords, expired) = udp.flush(udpSamples, nowMonotonicNs: now,
                                              idleTimeoutNs: options.udpIdleTimeoutNs, context: context)
        records += udpRecords
        loaded.udpFlows.delete(keys: expired)
        udpFlows = udpSamples.count - expired.count

        records += loss.flush(totals: lossTotals(), nowMonotonicNs: now, context: context)
        return records
    }

    /// Live flows that changed since the last read (all of them when `complete`), and closed
    /// ones the ring buffer had no room for (with their hash keys on the portable tier, to delete
    /// once reported).
    private func readFlows(complete: Bool) throws -> (live: [TCPFlowSample], closed: [(sample: TCPFlowSample, key: [UInt8])]) {
        var live: [TCPFlowSample] = []
        var closedUnsent: [(sample: TCPFlowSample, key: [UInt8])] = []
        func take(_ raw: UnsafeRawBufferPointer, key: UnsafeRawBufferPointer?) {
            guard let sample = TCPFlowSample(raw: raw), sample.startNs != 0, !sample.exported else { return }
            if sample.closedNs != 0 {
                closedUnsent.append((sample, key.map { Array($0) } ?? []))
            } else {
                live.append(sample)
            }
        }
        if let dump = loaded.tcpDump {
            // The iterator writes only the changed flows (all of them on a full dump).
            let dumped = try dump.read()
            let size = MemoryLayout<netobs_tcp_flow>.size
            dumped.withUnsafeBytes { raw in
                for offset in stride(from: 0, to: raw.count - size + 1, by: size) {
                    take(UnsafeRawBufferPointer(rebasing: raw[offset..<(offset + size)]), key: nil)
                }
            }
        } else if let flows = loaded.tcpFlows, let dirty = loaded.tcpDirty {
            // Keys first: a flow changed after its key was taken lists itself again.
            let changed = try dirty.takeKeys()
            if complete {
                try flows.forEach { key, value in take(value, key: key) }
            } else {
                for key in changed {
                    guard let value = flows.lookup(key: key) else { continue } // closed meanwhile
                    key.withUnsafeBytes { k in value.withUnsafeBytes { v in take(v, key: k) } }
                }
            }
        }
        return (live, closedUnsent)
    }

    /// The closed-flow ring's highest fill since the last call (0 … 1).
    public func takeRingFill() -> [String: Double] {
        closedFlows.map { ["l4_closed_flows": $0.fill.take()] } ?? [:]
    }

    public func close() {
        closedFlows?.stop()
        closedFlows = nil
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
        try RuleMaps.write(rules, ports: loaded.rulePorts, cgroups: loaded.ruleCgroups, value: loaded.rules)
    }

    private func writeConfig(fullDump: Bool = false) throws {
        var value = netobs_config()
        value.rtt_epoch = epoch
        value.full_dump = fullDump ? 1 : 0
        value.max_tcp_flows = UInt32(clamping: options.maxTCPFlows)
        value.generation = loaded.generation
        let bytes = withUnsafeBytes(of: value) { Array($0) }
        try loaded.config.update(key: [0, 0, 0, 0], value: bytes)
    }
}
