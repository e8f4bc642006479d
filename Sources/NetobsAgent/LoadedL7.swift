import NetobsKernel
import NetobsRecords

/// One loaded copy of the L7 programs (cgroup_skb on the cgroup v2 root) and the maps the
/// collector reads. A hot swap loads a second copy on the same maps (aggregates, texts, pending
/// queries, latency entries, counters and the per-connection socket storage carry over) and
/// makes it the active generation; see `netobs_generation` in bpf/l7.bpf.c.
final class LoadedL7 {
    static let objectName = "l7"
    enum Maps {
        static let events = "netobs_l7_events"
        static let aggregates = "netobs_l7_aggregates"
        static let overflow = "netobs_l7_overflow"
        static let texts = "netobs_l7_texts"
        static let dnsPending = "netobs_dns_pending"
        static let counters = "netobs_l7_counters"
        static let tcpLatency = "netobs_tcp_latency"
        static let config = "netobs_l7_config"
        static let plain = "netobs_l7_plain"
        static let rulePorts = "netobs_l7_rule_ports"
        static let ruleCgroups = "netobs_l7_rule_cgroups"
        static let udpFlows = "netobs_udp_flows"
    }

    let object: BPFObject
    let generation: UInt32
    let events: BPFMap
    let aggregates: BPFMap
    let overflow: BPFMap
    let texts: BPFMap
    let dnsPending: BPFMap
    let counters: BPFMap
    let tcpLatency: BPFMap
    let config: BPFMap
    /// h2c: the payload of connections that began with the HTTP/2 client preface.
    let plain: BPFMap
    /// The rules' port and cgroup sets (their modes are in `config`).
    let rulePorts: BPFMap
    let ruleCgroups: BPFMap

    /// Loads and attaches to `cgroupRoot` (nil: load only, to see whether the kernel takes it).
    /// A first load writes the sets of `rules`, then `config` (struct netobs_l7_config: the
    /// rules' L7 settings and filter modes) before anything attaches, and sizes the aggregate map to `aggregateKeys` (a swap reuses the
    /// running maps). The programs count UDP datagrams into `udpFlows`, the L4 object's map
    /// (without one, a one-entry map of their own that the config leaves unused). A refusal
    /// throws with the verifier's log and leaves `previous` running.
    init(bytes: [UInt8], generation: UInt32, cgroupRoot: String?, config initialConfig: [UInt8]? = nil,
         rules: CollectionRules? = nil, sharingMapsWith previous: LoadedL7?, aggregateKeys: Int? = nil,
         udpFlows: BPFMap? = nil) throws {
        object = try BPFObject(bytes: bytes, name: Self.objectName)
        self.generation = generation
        do {
            if let previous {
                try object.reuseMaps(of: previous.object)
            } else {
                if let aggregateKeys { try object.map(named: Maps.aggregates).setMaxEntries(aggregateKeys) }
                if let udpFlows {
                    try object.map(named: Maps.udpFlows).reuse(fd: udpFlows.fd)
                } else {
                    try object.map(named: Maps.udpFlows).setMaxEntries(1)
                }
            }
            try object.setReadOnlyGlobal("netobs_generation", to: generation)
            try object.load()
            if previous == nil, let rules {
                try RuleMaps.writeSets(rules, ports: try object.map(named: Maps.rulePorts),
                                       cgroups: try object.map(named: Maps.ruleCgroups))
            }
            if previous == nil, let initialConfig {
                try object.map(named: Maps.config).update(key: [0, 0, 0, 0], value: initialConfig)
            }
            if let cgroupRoot {
                for program in object.programs { try object.attach(program, cgroup: cgroupRoot) }
            }
            events = try object.map(named: Maps.events)
            aggregates = try object.map(named: Maps.aggregates)
            overflow = try object.map(named: Maps.overflow)
            texts = try object.map(named: Maps.texts)
            dnsPending = try object.map(named: Maps.dnsPending)
            counters = try object.map(named: Maps.counters)
            tcpLatency = try object.map(named: Maps.tcpLatency)
            config = try object.map(named: Maps.config)
            plain = try object.map(named: Maps.plain)
            rulePorts = try object.map(named: Maps.rulePorts)
            ruleCgroups = try object.map(named: Maps.ruleCgroups)
        } catch {
            object.close()
            throw error
        }
    }

    /// Keys of the aggregate map for a memory budget: each key holds one value per possible CPU.
    static func aggregateKeys(budgetBytes: Int = 64 << 20, cpus: Int = BPFMap.possibleCPUs) -> Int {
        let perKey = 168 * max(1, cpus) + 128 // struct netobs_l7_aggregate per CPU, key and overhead
        return min(65_536, max(1_024, budgetBytes / perKey))
    }

    func close() { object.close() }
}
