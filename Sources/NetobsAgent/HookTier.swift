/// Which kind of kernel hook carries a metric. Picked per host at load (`--hooks`).
public enum HookTier: String, Sendable, CaseIterable {
    /// tp_btf programs, TCP flows in socket storage read by an iterator: needs the kernel to
    /// load BPF `tracing` programs.
    case btf
    /// raw_tp programs with CO-RE reads, TCP flows in a hash read in batches, and cgroup
    /// programs: no `tracing` program type needed.
    case portable
}

/// `--hooks`: a tier, or the best one the kernel allows.
public enum HookTierRequest: String, Sendable, CaseIterable {
    case auto, btf, portable

    /// The tiers to try, best first.
    public func candidates(tracingAllowed: Bool) -> [HookTier] {
        switch self {
        case .auto: tracingAllowed ? [.btf, .portable] : [.portable]
        case .btf: [.btf]
        case .portable: [.portable]
        }
    }
}

/// How one kernel hook is used on this host: its tier, or off with the reason, and the
/// Table-1 metrics its absence leaves out.
public struct HookReport: Sendable, Equatable {
    public var hook: String
    /// A `HookTier` raw value, or "off".
    public var tier: String
    /// The BPF program type (tp_btf, raw_tracepoint, cgroup_skb, ...); "" when off.
    public var programType: String
    public var metricsOff: [String]
    /// Why the hook is off ("" when on).
    public var reason: String

    public init(hook: String, tier: String, programType: String, metricsOff: [String] = [], reason: String = "") {
        self.hook = hook
        self.tier = tier
        self.programType = programType
        self.metricsOff = metricsOff
        self.reason = reason
    }

    public var isOff: Bool { tier == "off" }
}
