/// Transport and application protocols a rule selects. Unknown bits are kept, and ignored by agents
/// that do not know them, so new protocols need no new message version.
public struct ProtocolSet: OptionSet, Sendable, Hashable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    public static let tcp = ProtocolSet(rawValue: 0x01)
    public static let udp = ProtocolSet(rawValue: 0x02)
    public static let http = ProtocolSet(rawValue: 0x04)
    public static let dns = ProtocolSet(rawValue: 0x08)
}

/// An inclusive port range; a single port is `first == last`.
public struct PortRange: Sendable, Hashable {
    public var first: UInt16
    public var last: UInt16

    public init(_ first: UInt16, _ last: UInt16) {
        self.first = first
        self.last = last
    }

    public init(port: UInt16) { self.init(port, port) }
}

/// One filter rule. A flow matches when every non-empty selector matches (empty means "any").
/// An include rule records what it matches; an exclude rule (tagged field 0) keeps what it
/// matches out, whatever the include rules say.
public struct Rule: Sendable, Equatable {
    public var id: String
    public var namespaces: [String]
    public var pods: [String]
    public var cgroupIds: [UInt64]
    public var ports: [PortRange]
    public var protocols: ProtocolSet
    /// Parts per million of matching flows to record: 1_000_000 records all, 0 none.
    public var samplingPpm: UInt32
    /// Parse HTTP and DNS on matching flows.
    public var l7: Bool
    public var options: [KeyValue]
    /// Tagged field 0 (bool, sent only when true): matching flows are not recorded.
    public var exclude: Bool
    /// Tagged field 1 (sent only when non-empty): a pod matches when it carries every one of
    /// these labels (key = label name, value = label value).
    public var labels: [KeyValue]
    /// Tagged field 2 (sent only when non-nil): the UIDs of the pods on the receiving agent's
    /// node that the controller resolved this rule's namespace, pod and label selectors to; the
    /// agent selects their cgroups. Present and empty: no pod of that node is selected.
    public var podUIDs: [String]?

    public init(id: String, namespaces: [String] = [], pods: [String] = [], cgroupIds: [UInt64] = [],
                ports: [PortRange] = [], protocols: ProtocolSet = [.tcp, .udp], samplingPpm: UInt32 = 1_000_000,
                l7: Bool = false, options: [KeyValue] = [], exclude: Bool = false,
                labels: [KeyValue] = [], podUIDs: [String]? = nil) {
        self.id = id
        self.namespaces = namespaces
        self.pods = pods
        self.cgroupIds = cgroupIds
        self.ports = ports
        self.protocols = protocols
        self.samplingPpm = samplingPpm
        self.l7 = l7
        self.options = options
        self.exclude = exclude
        self.labels = labels
        self.podUIDs = podUIDs
    }

    /// Selects pods by namespace, name or labels (resolved by the controller, not by agents).
    public var selectsPods: Bool { !namespaces.isEmpty || !pods.isEmpty || !labels.isEmpty }

    // id(1) + four list counts(4) + protocols(1) + sampling(4) + l7(1) + options count(1) + tagged(1)
    static let minEncodedSize = 13

    func encode(into w: inout ByteWriter) throws(WireError) {
        try check(samplingPpm <= Limits.samplingPpmMax, "rule.sampling_ppm", samplingPpm)
        try w.string(id, limit: Limits.label, field: "rule.id")
        try w.list(namespaces, limit: Limits.namespacesPerRule, "rule.namespaces") { s, w throws(WireError) in
            try w.string(s, limit: Limits.label, field: "rule.namespaces")
        }
        try w.list(pods, limit: Limits.podsPerRule, "rule.pods") { s, w throws(WireError) in
            try w.string(s, limit: Limits.name, field: "rule.pods")
        }
        try w.list(cgroupIds, limit: Limits.cgroupsPerRule, "rule.cgroup_ids") { id, w in w.u64(id) }
        try w.list(ports, limit: Limits.portRangesPerRule, "rule.ports") { p, w throws(WireError) in
            try check(p.first <= p.last, "rule.ports", p.last)
            w.u16(p.first)
            w.u16(p.last)
        }
        w.u8(protocols.rawValue)
        w.u32(samplingPpm)
        w.bool(l7)
        try w.options(options, "rule.options")
        var tagged: [TaggedField] = exclude ? [(0, [1])] : []
        if !labels.isEmpty {
            var v = ByteWriter()
            try v.options(labels, "rule.labels")
            tagged.append((1, v.bytes))
        }
        if let podUIDs {
            var v = ByteWriter()
            try v.list(podUIDs, limit: Limits.podsPerRule, "rule.pod_uids") { s, w throws(WireError) in
                try w.string(s, limit: Limits.label, field: "rule.pod_uids")
            }
            tagged.append((2, v.bytes))
        }
        try w.taggedFields(tagged, "rule.tagged")
    }

    init(from r: inout ByteReader) throws(WireError) {
        id = try r.string(limit: Limits.label, "rule.id")
        namespaces = try r.list(limit: Limits.namespacesPerRule, minElementSize: 1, "rule.namespaces") {
            r throws(WireError) in try r.string(limit: Limits.label, "rule.namespaces")
        }
        pods = try r.list(limit: Limits.podsPerRule, minElementSize: 1, "rule.pods") {
            r throws(WireError) in try r.string(limit: Limits.name, "rule.pods")
        }
        cgroupIds = try r.list(limit: Limits.cgroupsPerRule, minElementSize: 8, "rule.cgroup_ids") {
            r throws(WireError) in try r.u64("rule.cgroup_ids")
        }
        ports = try r.list(limit: Limits.portRangesPerRule, minElementSize: 4, "rule.ports") {
            r throws(WireError) in
            let p = PortRange(try r.u16("rule.ports"), try r.u16("rule.ports"))
            try check(p.first <= p.last, "rule.ports", p.last)
            return p
        }
        protocols = ProtocolSet(rawValue: try r.u8("rule.protocols"))
        samplingPpm = try r.u32("rule.sampling_ppm")
        try check(samplingPpm <= Limits.samplingPpmMax, "rule.sampling_ppm", samplingPpm)
        l7 = try r.bool("rule.l7")
        options = try r.options("rule.options")
        var exclude = false
        var labels: [KeyValue] = []
        var podUIDs: [String]?
        try r.taggedFields("rule.tagged") { tag, v throws(WireError) in
            switch tag {
            case 0: exclude = try v.bool("rule.exclude")
            case 1: labels = try v.options("rule.labels")
            case 2:
                podUIDs = try v.list(limit: Limits.podsPerRule, minElementSize: 1, "rule.pod_uids") {
                    r throws(WireError) in try r.string(limit: Limits.label, "rule.pod_uids")
                }
            default: return false
            }
            return true
        }
        self.exclude = exclude
        self.labels = labels
        self.podUIDs = podUIDs
    }
}

/// The complete set of rules an agent applies; each RuleSet replaces the previous one.
public struct RuleSet: WireMessage {
    public static let type = MessageType.ruleSet
    public static let version: UInt16 = 1

    /// Increases with every change; an agent ignores a RuleSet older than the one it runs.
    public var version: UInt64
    public var rules: [Rule]
    /// Settings that apply to the whole agent (e.g. "flush_interval_ms").
    public var options: [KeyValue]

    public init(version: UInt64, rules: [Rule], options: [KeyValue] = []) {
        self.version = version
        self.rules = rules
        self.options = options
    }

    public func encode(into w: inout ByteWriter) throws(WireError) {
        w.u64(version)
        try w.list(rules, limit: Limits.rules, "rule_set.rules") { rule, w throws(WireError) in
            try rule.encode(into: &w)
        }
        try w.options(options, "rule_set.options")
        w.noTaggedFields()
    }

    public init(from r: inout ByteReader) throws(WireError) {
        version = try r.u64("rule_set.version")
        rules = try r.list(limit: Limits.rules, minElementSize: Rule.minEncodedSize, "rule_set.rules") {
            r throws(WireError) in try Rule(from: &r)
        }
        options = try r.options("rule_set.options")
        try r.taggedFields("rule_set.tagged")
    }
}

/// The agent's answer to a RuleSet.
public struct RuleSetAck: WireMessage {
    public static let type = MessageType.ruleSetAck
    public static let version: UInt16 = 1

    public var ruleSetVersion: UInt64
    public var accepted: Bool
    /// Why a rule set was refused, or notes on how it was applied.
    public var detail: String

    public init(ruleSetVersion: UInt64, accepted: Bool, detail: String = "") {
        self.ruleSetVersion = ruleSetVersion
        self.accepted = accepted
        self.detail = detail
    }

    public func encode(into w: inout ByteWriter) throws(WireError) {
        w.u64(ruleSetVersion)
        w.bool(accepted)
        try w.string(detail, limit: Limits.text, field: "rule_set_ack.detail")
        w.noTaggedFields()
    }

    public init(from r: inout ByteReader) throws(WireError) {
        ruleSetVersion = try r.u64("rule_set_ack.rule_set_version")
        accepted = try r.bool("rule_set_ack.accepted")
        detail = try r.string(limit: Limits.text, "rule_set_ack.detail")
        try r.taggedFields("rule_set_ack.tagged")
    }
}
