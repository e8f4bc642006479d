import NetobsKernel
import NetobsWire

/// One loaded copy of the L4 programs on one hook tier: the object, its attachments, and the
/// maps the collector reads. A hot swap loads a second copy on the same kernel maps (flows
/// survive) and makes it the active generation; see `netobs_generation` in bpf/l4/maps.h.
final class LoadedL4 {
    let object: BPFObject
    let generation: UInt32
    let tier: HookTier
    /// The BTF tier's reader of the socket-storage flows (nil on the portable tier).
    let tcpDump: BPFIterator?
    /// The portable tier's flow hash and the keys of its changed flows (nil on the BTF tier).
    let tcpFlows: BPFMap?
    let tcpDirty: BPFMap?
    let tcpDrops: BPFMap
    /// Counted by the L7 object's programs (`LoadedL7` shares it); read here with the flows.
    let udpFlows: BPFMap
    let losses: BPFMap
    let config: BPFMap
    let closedRing: BPFMap
    let rules: BPFMap
    let rulePorts: BPFMap
    let ruleCgroups: BPFMap
    /// Hooks that are off, with the reason.
    let offHooks: [String: String]

    /// Loads the tier's programs. On the portable tier a program the kernel refuses turns its
    /// hook off and the rest load; on the BTF tier (`strict`) any refusal throws, so that the
    /// caller can fall back to the portable tier. A swap (`previous`) keeps the running copy's
    /// hooks and fails as a whole. `attach` false loads without attaching (`--features`).
    init(bytes: [UInt8], generation: UInt32, tier: HookTier, options: L4Collector.Options, btf: KernelBTF,
         sharingMapsWith previous: LoadedL4?, attach: Bool = true) throws {
        let lenient = tier == .portable && previous == nil
        var off = previous?.offHooks ?? Self.initiallyOff(tier: tier, options: options, btf: btf)
        var object: BPFObject
        while true {
            object = try BPFObject(bytes: bytes, name: L4Programs.objectName)
            try Self.configure(object, tier: tier, off: off, options: options, previous: previous)
            try object.setReadOnlyGlobal("netobs_generation", to: generation)
            do {
                try object.load()
                break
            } catch let error as KernelError {
                object.close()
                guard lenient, let program = error.failedProgram, let hook = L4Programs.hook(ofProgram: program),
                      hook.name != "tcp_flow_table", off[hook.name] == nil else { throw error }
                off[hook.name] = "the kernel refused program \(program): \(error.summary)"
            }
        }
        if previous == nil, let rules = options.initialRules {
            try RuleMaps.write(rules, ports: try object.map(named: L4Programs.Maps.rulePorts),
                               cgroups: try object.map(named: L4Programs.Maps.ruleCgroups),
                               value: try object.map(named: L4Programs.Maps.rules))
        }
        if attach {
            for program in object.programs where program.autoload && !program.isIterator {
                do {
                    try object.attach(program)
                } catch let error as KernelError {
                    guard lenient, let hook = L4Programs.hook(ofProgram: program.name) else {
                        object.close()
                        throw error
                    }
                    off[hook.name] = off[hook.name] ?? "attaching \(program.name) failed: \(error.summary)"
                }
            }
        }
        self.object = object
        self.generation = generation
        self.tier = tier
        offHooks = off
        if tier == .btf, attach {
            guard let dump = object.program(named: L4Programs.tcpDump) else {
                throw KernelError("finding program \(L4Programs.tcpDump)", errno: 2)
            }
            tcpDump = try object.attachIterator(dump, map: try object.map(named: L4Programs.Maps.tcpStore))
        } else {
            tcpDump = nil
        }
        tcpFlows = tier == .portable ? try object.map(named: L4Programs.Maps.tcpFlows) : nil
        tcpDirty = tier == .portable ? try object.map(named: L4Programs.Maps.tcpDirty) : nil
        tcpDrops = try object.map(named: L4Programs.Maps.tcpDrops)
        udpFlows = try object.map(named: L4Programs.Maps.udpFlows)
        losses = try object.map(named: L4Programs.Maps.losses)
        config = try object.map(named: L4Programs.Maps.config)
        closedRing = try object.map(named: L4Programs.Maps.tcpClosed)
        rules = try object.map(named: L4Programs.Maps.rules)
        rulePorts = try object.map(named: L4Programs.Maps.rulePorts)
        ruleCgroups = try object.map(named: L4Programs.Maps.ruleCgroups)
    }

    /// Hooks this host or the operator leaves out before anything is loaded.
    private static func initiallyOff(tier: HookTier, options: L4Collector.Options, btf: KernelBTF) -> [String: String] {
        var off: [String: String] = [:]
        for hook in L4Programs.hooks where L4Programs.tracepoints.contains(hook.name) {
            if options.disabledTracepoints.contains(hook.name) {
                off[hook.name] = "disabled by --disable-tracepoint"
            } else if !btf.hasTracepoint(hook.name) {
                off[hook.name] = "tracepoint \(hook.name) is missing in this kernel"
            }
        }
        return off
    }

    /// Picks the programs and maps of `tier`, and shares the running copy's maps on a swap.
    private static func configure(_ object: BPFObject, tier: HookTier, off: [String: String],
                                  options: L4Collector.Options, previous: LoadedL4?) throws {
        for program in object.programs {
            let hook = L4Programs.hook(ofProgram: program.name)
            program.autoload = L4Programs.belongs(program.name, to: tier) && hook.map { off[$0.name] == nil } ?? false
        }
        // A version may lack the other tier's maps; those it has are left uncreated.
        for name in L4Programs.Maps.unused(on: tier) { try? object.map(named: name).setAutocreate(false) }
        if let previous {
            try object.reuseMaps(of: previous.object)
        } else {
            try object.map(named: L4Programs.Maps.udpFlows).setMaxEntries(options.maxUDPFlows)
            if tier == .portable {
                try object.map(named: L4Programs.Maps.tcpFlows).setMaxEntries(options.maxTCPFlows)
                try object.map(named: L4Programs.Maps.tcpDirty).setMaxEntries(options.maxTCPFlows)
            }
        }
    }

    /// Every hook of the L4 object on this tier, on or off.
    var reports: [HookStatus] {
        L4Programs.hooks.compactMap { hook in
            let programType: String
            if hook.name == "tcp_flow_table" {
                programType = tier == .btf ? "sk_storage+iter" : "hash"
            } else if let program = hook.program(on: tier), let p = object.program(named: program) {
                programType = L4Programs.programType(section: p.section)
            } else {
                return nil // no such hook on this tier
            }
            if let reason = offHooks[hook.name] {
                return HookStatus(hook: hook.name, tier: "off", programType: "", metricsOff: hook.metrics,
                                  reason: "\(reason); off: \(hook.metrics.isEmpty ? hook.effect : hook.metrics.joined(separator: ", "))")
            }
            return HookStatus(hook: hook.name, tier: tier.rawValue, programType: programType)
        }
    }

    func close() { object.close() }
}
