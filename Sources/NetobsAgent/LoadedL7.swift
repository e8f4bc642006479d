import NetobsKernel
import NetobsRecords

/// One loaded copy of the L7 programs (cgroup_skb on the cgroup v2 root) and the maps the
/// collector reads. A hot swap loads a second copy on the same maps (pending requests,
/// connection state and counters carry over) and makes it the active generation; see
/// `netobs_generation` in bpf/l7.bpf.c.
final class LoadedL7 {
    static let objectName = "l7"
    enum Maps {
        static let events = "netobs_l7_events"
        static let dnsPending = "netobs_dns_pending"
        static let httpConns = "netobs_http_conns"
        static let counters = "netobs_l7_counters"
        static let tcpTurns = "netobs_tcp_turns"
        static let config = "netobs_l7_config"
        static let rules = "netobs_rules"
    }

    let object: BPFObject
    let generation: UInt32
    let events: BPFMap
    let dnsPending: BPFMap
    let httpConns: BPFMap
    let counters: BPFMap
    let tcpTurns: BPFMap
    let config: BPFMap
    let rules: BPFMap

    /// Loads and attaches to `cgroupRoot` (nil: load only, to see whether the kernel takes it),
    /// with `rules` in the rules map before anything attaches. A refusal throws with the
    /// verifier's log and leaves `previous` running untouched.
    init(bytes: [UInt8], generation: UInt32, cgroupRoot: String?, rules initialRules: CollectionRules? = nil,
         sharingMapsWith previous: LoadedL7?) throws {
        object = try BPFObject(bytes: bytes, name: Self.objectName)
        self.generation = generation
        do {
            if let previous { try object.reuseMaps(of: previous.object) }
            try object.setReadOnlyGlobal("netobs_generation", to: generation)
            try object.load()
            if previous == nil, let initialRules {
                try object.map(named: Maps.rules).update(key: [0, 0, 0, 0], value: RuleMaps.value(of: initialRules))
            }
            if let cgroupRoot {
                for program in object.programs { try object.attach(program, cgroup: cgroupRoot) }
            }
            events = try object.map(named: Maps.events)
            dnsPending = try object.map(named: Maps.dnsPending)
            httpConns = try object.map(named: Maps.httpConns)
            counters = try object.map(named: Maps.counters)
            tcpTurns = try object.map(named: Maps.tcpTurns)
            config = try object.map(named: Maps.config)
            rules = try object.map(named: Maps.rules)
        } catch {
            object.close()
            throw error
        }
    }

    func close() { object.close() }
}
