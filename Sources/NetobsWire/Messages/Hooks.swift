/// How an agent attaches one kernel hook on its host, and what that costs: sent in Hello (tagged
/// field 1) and reported back to operators in AgentStatus (tagged field 0).
///
/// `tier` is "btf" (the kernel loads `tracing` programs), "portable" (a program type every host
/// has) or "off" (the hook cannot be used here). It stays a string so that a tier added later
/// reaches old controllers and operator tools as-is instead of failing their Hello.
public struct HookStatus: Sendable, Hashable {
    /// The kernel hook, e.g. "inet_sock_set_state", "kfree_skb", "cgroup_skb".
    public var hook: String
    /// "btf" | "portable" | "off" (other values: a newer agent's tier, shown as it is).
    public var tier: String
    /// The BPF program type attached, e.g. "tp_btf", "raw_tracepoint", "cgroup_skb"; "" when off.
    public var programType: String
    /// Table-1 field names this hook's state leaves off, e.g. ["tcp_drop"].
    public var metricsOff: [String]
    /// Why the hook is off or degraded; "" when it is fine.
    public var reason: String

    public init(hook: String, tier: String, programType: String, metricsOff: [String] = [], reason: String = "") {
        self.hook = hook
        self.tier = tier
        self.programType = programType
        self.metricsOff = metricsOff
        self.reason = reason
    }
}

extension HookStatus {
    // hook(1) tier(1) program_type(1) metrics_off count(1) reason(1) tagged(1)
    static let minEncodedSize = 6

    /// Fields in wire order, then the struct's own (empty) tagged section, so a field can be added
    /// to one hook later without a new message version.
    func encode(into w: inout ByteWriter, _ field: String) throws(WireError) {
        try w.string(hook, limit: Limits.label, field: field + ".hook")
        try w.string(tier, limit: Limits.label, field: field + ".tier")
        try w.string(programType, limit: Limits.label, field: field + ".program_type")
        try w.list(metricsOff, limit: Limits.metricsOffPerHook, field + ".metrics_off") { m, w throws(WireError) in
            try w.string(m, limit: Limits.label, field: field + ".metrics_off")
        }
        try w.string(reason, limit: Limits.text, field: field + ".reason")
        w.noTaggedFields()
    }

    init(from r: inout ByteReader, _ field: String) throws(WireError) {
        hook = try r.string(limit: Limits.label, field + ".hook")
        tier = try r.string(limit: Limits.label, field + ".tier")
        programType = try r.string(limit: Limits.label, field + ".program_type")
        metricsOff = try r.list(limit: Limits.metricsOffPerHook, minElementSize: 1, field + ".metrics_off") {
            r throws(WireError) in try r.string(limit: Limits.label, field + ".metrics_off")
        }
        reason = try r.string(limit: Limits.text, field + ".reason")
        try r.taggedFields(field + ".tagged")
    }
}

extension ByteWriter {
    /// The value of a `hooks` tagged field: list<HookStatus>(64).
    mutating func hooks(_ hooks: [HookStatus], _ field: String) throws(WireError) {
        try list(hooks, limit: Limits.hooks, field) { h, w throws(WireError) in try h.encode(into: &w, field) }
    }
}

extension ByteReader {
    mutating func hooks(_ field: String) throws(WireError) -> [HookStatus] {
        try list(limit: Limits.hooks, minElementSize: HookStatus.minEncodedSize, field) { r throws(WireError) in
            try HookStatus(from: &r, field)
        }
    }
}

extension [TaggedField] {
    /// Appends `hooks` under `tag` when there are any: an empty report is absent, so a sender
    /// without one writes exactly the bytes it wrote before the field existed.
    mutating func appendHooks(_ hooks: [HookStatus], tag: UInt32, _ field: String) throws(WireError) {
        guard !hooks.isEmpty else { return }
        var v = ByteWriter()
        try v.hooks(hooks, field)
        append((tag, v.bytes))
    }
}

extension [HookStatus] {
    /// One entry per hook, the last one sent for it (PROTOCOL.md §6.1), in the order sent.
    public var lastPerHook: [HookStatus] {
        var seen = Set<String>()
        return reversed().filter { seen.insert($0.hook).inserted }.reversed()
    }
}
