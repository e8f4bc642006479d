import NetobsKernel
import NetobsRecords
import NetobsWire

/// `netobs-agent --features`: what this host allows and what the agent would use here, found
/// by probing the program types and loading (not attaching) the programs as a run would.
public enum FeatureReport {
    public static func make(_ settings: CollectionLoop.Settings) throws -> Record {
        let features = KernelFeatures.probe()
        var (hooks, tier, fallback) = l4Hooks(settings, features: features)
        hooks.append(l7Hook(settings, udpFlows: tier != "off"))
        hooks.append(tlsHook(settings, features: features))

        var report = Record()
        report.set("kernel", .string(features.kernelRelease))
        report.set("btf", .bool(features.hasBTF))
        var types = Record()
        for (name, _) in KernelFeatures.programTypeNames { types.set(name, .bool(features.allows(name))) }
        report.set("program_types", .object(types))
        report.set("tier", .string(tier))
        if !fallback.isEmpty { report.set("tier_reason", .string(fallback)) }
        report.set("hooks", .array(hooks.map { .object(object($0)) }))
        var off = Record()
        for hook in hooks where hook.isOff {
            for metric in hook.metricsOff where off[metric] == nil { off.set(metric, .string(hook.reason)) }
        }
        report.set("metrics_off", .object(off))
        report.set("uprobes", .object(uprobes(features)))
        return report
    }

    /// The L4 hooks a run would use, the tier, and why a better tier was not used.
    private static func l4Hooks(_ settings: CollectionLoop.Settings,
                                features: KernelFeatures) -> (hooks: [HookStatus], tier: String, fallback: String) {
        guard settings.l4Enabled else { return (L4Collector.allOff(reason: "disabled by --no-l4"), "off", "") }
        do {
            let btf = try KernelBTF()
            let (loaded, fallback) = try L4Collector.load(options: settings.l4, btf: btf, features: features, attach: false)
            defer { loaded.close() }
            return (loaded.reports, loaded.tier.rawValue, fallback)
        } catch {
            return (L4Collector.allOff(reason: "the L4 programs did not load: \(error)"), "off", "")
        }
    }

    /// `udpFlows`: the L4 programs load, so the L7 ones would count their UDP flows.
    private static func l7Hook(_ settings: CollectionLoop.Settings, udpFlows: Bool) -> HookStatus {
        if case .failure(let off) = Collectors.l7Options(settings) {
            return L7Collector.hook(offBecause: off.reason, udpFlows: udpFlows)
        }
        do {
            try L7Collector.trialLoad()
            return L7Collector.hook(offBecause: nil)
        } catch {
            return L7Collector.hook(offBecause: L7Collector.loadFailure(error), udpFlows: udpFlows)
        }
    }

    private static func tlsHook(_ settings: CollectionLoop.Settings, features: KernelFeatures) -> HookStatus {
        if let off = Collectors.tlsOff(settings, features: features) { return TLSCollector.hook(offBecause: off) }
        do {
            try TLSCollector.trialLoad()
            return TLSCollector.hook(offBecause: nil)
        } catch {
            return TLSCollector.hook(offBecause: "the TLS programs did not load: \(error)")
        }
    }

    /// Whether uprobes work here, and the OpenSSL libraries (libssl files mapped by the node's
    /// processes, by inode) a run would probe now.
    private static func uprobes(_ features: KernelFeatures) -> Record {
        var r = Record()
        let available = TLSCollector.uprobesAvailable(features)
        r.set("available", .bool(available))
        r.set("program_type", .string("kprobe"))
        r.set("libraries", .array(available ? TLSCollector.librariesOnNode().map { .string($0) } : []))
        return r
    }

    static func object(_ hook: HookStatus) -> Record {
        var r = Record()
        r.set("hook", .string(hook.hook))
        r.set("tier", .string(hook.tier))
        r.set("program_type", .string(hook.programType))
        r.set("metrics_off", .array(hook.metricsOff.map { .string($0) }))
        if !hook.reason.isEmpty { r.set("reason", .string(hook.reason)) }
        return r
    }
}
