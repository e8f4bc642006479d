import NetobsWire

/// Which kind of kernel hook carries a metric. Picked per host at load (`--hooks`).
public enum HookTier: String, Sendable, CaseIterable {
    /// tp_btf programs, TCP flows in socket storage read by an iterator: needs the kernel to
    /// load BPF `tracing` programs.
    case btf
    /// raw_tp programs with CO-RE reads, TCP flows in a hash read in batches: no `tracing`
    /// program type needed.
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

/// How one kernel hook is used on this host is a `HookStatus`, the value the Hello carries to
/// the controller: its tier, or off with the reason, and the Table-1 metrics it leaves out.
extension HookStatus {
    public var isOff: Bool { tier == "off" }
}
