import NetobsKernel

/// One loaded copy of the L4 programs: the object, its attachments, and the maps the collector
/// reads. A hot swap loads a second copy on the same kernel maps (flows survive) and makes it
/// the active generation; see `netobs_generation` in bpf/l4.bpf.c.
final class LoadedL4 {
    let object: BPFObject
    let generation: UInt32
    let tcpDump: BPFIterator
    let tcpDrops: BPFMap
    let udpFlows: BPFMap
    let losses: BPFMap
    let config: BPFMap
    let closedRing: BPFMap
    let rules: BPFMap
    let rulePorts: BPFMap
    let ruleCgroups: BPFMap
    /// Metrics that are off on this kernel, with the reason.
    private(set) var disabled: [String] = []

    init(bytes: [UInt8], generation: UInt32, options: L4Collector.Options, btf: KernelBTF,
         sharingMapsWith previous: LoadedL4?) throws {
        object = try BPFObject(bytes: bytes, name: L4Programs.objectName)
        self.generation = generation
        for program in object.programs {
            if let tracepoint = program.tracepoint,
               options.disabledTracepoints.contains(tracepoint) || !btf.hasTracepoint(tracepoint) {
                program.autoload = false
                let metrics = L4Programs.metricsByTracepoint[tracepoint] ?? []
                let why = options.disabledTracepoints.contains(tracepoint) ? "is disabled" : "is missing"
                disabled.append("tracepoint \(tracepoint) \(why): off: \(metrics.joined(separator: ", "))")
            } else if program.isCgroupProgram && options.cgroupRoot == nil {
                program.autoload = false
            }
        }
        if options.cgroupRoot == nil {
            disabled.append("no cgroup v2 mount: off: \(L4Programs.cgroupHooksPurpose)")
        }
        if let previous {
            // Shared state carries over; a map the running version lacks (one a newer version
            // added) starts afresh.
            for map in object.maps {
                guard let old = try? previous.object.map(named: map.name) else { continue }
                try map.reuse(fd: old.fd)
            }
        } else {
            try object.map(named: L4Programs.Maps.udpFlows).setMaxEntries(options.maxUDPFlows)
        }
        try object.setReadOnlyGlobal("netobs_generation", to: generation)
        try object.load()
        for program in object.programs where program.autoload && !program.isIterator {
            if program.isCgroupProgram, let root = options.cgroupRoot {
                try object.attach(program, cgroup: root)
            } else {
                try object.attach(program)
            }
        }
        guard let dump = object.program(named: L4Programs.tcpDump) else {
            throw KernelError("finding program \(L4Programs.tcpDump)", errno: 2)
        }
        tcpDump = try object.attachIterator(dump, map: try object.map(named: L4Programs.Maps.tcpStore))
        tcpDrops = try object.map(named: L4Programs.Maps.tcpDrops)
        udpFlows = try object.map(named: L4Programs.Maps.udpFlows)
        losses = try object.map(named: L4Programs.Maps.losses)
        config = try object.map(named: L4Programs.Maps.config)
        closedRing = try object.map(named: L4Programs.Maps.tcpClosed)
        rules = try object.map(named: L4Programs.Maps.rules)
        rulePorts = try object.map(named: L4Programs.Maps.rulePorts)
        ruleCgroups = try object.map(named: L4Programs.Maps.ruleCgroups)
    }

    func close() { object.close() }
}
