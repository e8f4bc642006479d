import CNetobsLayout
import NetobsKernel
import NetobsRecords

/// `CollectionRules` as the kernel's filter maps see them (struct netobs_rules and the sets). The
/// L7 object holds its own copies of the sets (`writeSets`) and the modes in netobs_l7_config.
enum RuleMaps {
    static func value(of rules: CollectionRules) -> [UInt8] {
        var v = netobs_rules()
        v.port_mode = mode(rules.ports?.mode)
        v.cgroup_mode = mode(rules.cgroups?.mode)
        v.protocols_off = (rules.tcp ? 0 : UInt8(NETOBS_RULES_NO_TCP)) | (rules.udp ? 0 : UInt8(NETOBS_RULES_NO_UDP))
        v.l7_off = rules.l7 ? 0 : 1
        v.sample_every = rules.sampleEvery
        return withUnsafeBytes(of: v) { Array($0) }
    }

    /// enum netobs_filter_mode; no set: off.
    static func mode(_ mode: CollectionRules.Mode?) -> UInt8 {
        switch mode {
        case nil: UInt8(NETOBS_FILTER_OFF.rawValue)
        case .include: UInt8(NETOBS_FILTER_INCLUDE.rawValue)
        case .exclude: UInt8(NETOBS_FILTER_EXCLUDE.rawValue)
        }
    }

    static func bytes<T: FixedWidthInteger>(of value: T) -> [UInt8] {
        withUnsafeBytes(of: value.littleEndian) { Array($0) }
    }

    /// Writes `rules` into the L4 filter maps: the sets first, then the modes that use them.
    static func write(_ rules: CollectionRules, ports: BPFMap, cgroups: BPFMap, value: BPFMap) throws {
        try writeSets(rules, ports: ports, cgroups: cgroups)
        try value.update(key: [0, 0, 0, 0], value: Self.value(of: rules))
    }

    /// The port and cgroup sets of `rules` (empty when a rule is absent). Write them before the
    /// modes: a mode never reads a set that is not yet its own.
    static func writeSets(_ rules: CollectionRules, ports: BPFMap, cgroups: BPFMap) throws {
        try sync(ports, to: Set((rules.ports?.values ?? []).map { bytes(of: $0) }))
        try sync(cgroups, to: Set((rules.cgroups?.values ?? []).map { bytes(of: $0) }))
    }

    /// Makes the set map hold exactly `keys`: adds the new ones, then deletes the others.
    static func sync(_ map: BPFMap, to keys: Set<[UInt8]>) throws {
        for key in keys { try map.update(key: key, value: [1]) }
        map.delete(keys: map.keys().filter { !keys.contains($0) })
    }
}
