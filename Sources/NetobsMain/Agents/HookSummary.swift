import NetobsWire

/// The HOOKS cell of `netobs agents`: the tiers of one agent's hook report in a few characters.
///
///     btf                          every hook on btf
///     portable                     every hook on portable
///     mixed(3 btf, 4 portable)     otherwise (tiers a newer agent reports are counted by name)
///     ... 1 off                    appended when some hooks are off ("2 off" alone: all off)
///     -                            no report (an agent that sends none)
enum HookSummary {
    static func cell(_ hooks: [HookStatus]) -> String {
        guard !hooks.isEmpty else { return "-" }
        var counts: [String: Int] = [:]
        for h in hooks { counts[h.tier, default: 0] += 1 }
        let off = counts.removeValue(forKey: "off") ?? 0
        let tiers = counts.keys.sorted { rank($0) < rank($1) || (rank($0) == rank($1) && $0 < $1) }
        var parts: [String] = []
        switch tiers.count {
        case 0: break
        case 1: parts.append(tiers[0])
        default: parts.append("mixed(" + tiers.map { "\(counts[$0] ?? 0) \($0)" }.joined(separator: ", ") + ")")
        }
        if off > 0 { parts.append("\(off) off") }
        return parts.joined(separator: " ")
    }

    /// The known tiers first, best first; others after them by name.
    private static func rank(_ tier: String) -> Int {
        switch tier {
        case "btf": 0
        case "portable": 1
        default: 2
        }
    }
}
