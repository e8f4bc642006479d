import NetobsKernel
import NetobsRecords
import NetobsWire

/// The kernel collectors of one agent. L4 and L7 load independently: one that cannot load is
/// off with its metrics named, and the agent goes on with the other; only both off is fatal.
final class Collectors {
    let l4: L4Collector?
    let l7: L7Collector?
    /// HTTP over TLS (OpenSSL uprobes); nil when off (the hook says why).
    let tls: TLSCollector?
    /// Every hook, on or off, as `--features` and the controller see them.
    let hooks: [HookStatus]

    struct NothingLoaded: Error, CustomStringConvertible {
        let reasons: [String]
        var description: String {
            "no kernel program could be loaded, so nothing can be observed: " + reasons.joined(separator: "; ")
        }
    }

    init(_ settings: CollectionLoop.Settings, context: RecordContext, features: KernelFeatures) throws {
        var l4Error = "disabled by --no-l4"
        if settings.l4Enabled {
            do {
                l4 = try L4Collector(options: settings.l4, context: context, features: features)
            } catch where settings.l4.hooks != .auto {
                throw error // the tier the operator named does not load: say so, do not run degraded
            } catch {
                l4 = nil
                l4Error = "the L4 programs did not load: \(error)"
            }
        } else {
            l4 = nil
        }
        let (l7, l7Report) = Self.startL7(settings, context: context, udpFlows: l4?.udpFlowMap)
        self.l7 = l7
        let (tls, tlsReport) = Self.startTLS(settings, context: context, features: features)
        self.tls = tls
        if let l4 {
            hooks = l4.hooks + [l7Report, tlsReport]
        } else {
            hooks = L4Collector.allOff(reason: l4Error) + [l7Report, tlsReport]
        }
        if l4 == nil && l7 == nil {
            throw NothingLoaded(reasons: [l4Error, l7Report.reason])
        }
    }

    /// The L7 programs also count UDP datagrams into `udpFlows` (the L4 object's map): without
    /// them the L4 collector has no UDP flows, which the report says.
    private static func startL7(_ settings: CollectionLoop.Settings, context: RecordContext,
                                udpFlows: BPFMap?) -> (L7Collector?, HookStatus) {
        let withUDP = udpFlows != nil
        switch l7Options(settings) {
        case .failure(let off):
            return (nil, L7Collector.hook(offBecause: off.reason, udpFlows: withUDP))
        case .success(let options):
            do {
                return (try L7Collector(options: options, context: context, udpFlows: udpFlows),
                        L7Collector.hook(offBecause: nil))
            } catch {
                return (nil, L7Collector.hook(offBecause: L7Collector.loadFailure(error), udpFlows: withUDP))
            }
        }
    }

    private static func startTLS(_ settings: CollectionLoop.Settings, context: RecordContext,
                                 features: KernelFeatures) -> (TLSCollector?, HookStatus) {
        if let off = tlsOff(settings, features: features) { return (nil, TLSCollector.hook(offBecause: off)) }
        var options = TLSCollector.Options()
        options.initialRules = settings.l4.initialRules
        do {
            return (try TLSCollector(options: options, context: context), TLSCollector.hook(offBecause: nil))
        } catch {
            return (nil, TLSCollector.hook(offBecause: "the TLS programs did not load: \(error)"))
        }
    }

    /// Why the TLS probes are off before anything is loaded, or nil.
    static func tlsOff(_ settings: CollectionLoop.Settings, features: KernelFeatures) -> String? {
        guard settings.tlsEnabled else { return "disabled by --no-tls" }
        guard TLSCollector.uprobesAvailable(features) else {
            return "uprobes unavailable (program type kprobe refused or no uprobe PMU: CONFIG_UPROBES)"
        }
        return nil
    }

    struct L7Off: Error { let reason: String }

    /// The L7 collector's options, or why it is off before anything is loaded.
    static func l7Options(_ settings: CollectionLoop.Settings) -> Result<L7Collector.Options, L7Off> {
        guard settings.l7Enabled else { return .failure(L7Off(reason: "disabled by --no-l7")) }
        guard let root = settings.l4.cgroupRoot else { return .failure(L7Off(reason: "no cgroup v2 mount")) }
        var options = L7Collector.Options(node: settings.l4.node, cgroupRoot: root)
        options.recordCap = settings.l7RecordCap
        options.maxAggregateURIs = settings.l7MaxURIs
        options.initialRules = settings.l4.initialRules
        return .success(options)
    }

    /// The generation of `object`'s programs doing the work now.
    func generation(of object: KernelObject) -> UInt32 {
        switch object {
        case .l4: l4?.generation ?? 0
        case .l7: l7?.generation ?? 0
        }
    }

    /// `final`: the last flush before stopping, which first drains the rings to the end.
    func flush(final: Bool = false) throws -> [Record] {
        try (l4?.flush(final: final) ?? []) + (l7?.flush() ?? []) + (tls?.flush(final: final) ?? [])
    }

    /// Per ring buffer, the highest fill seen since the last call (0 … 1).
    func takeRingFill() -> [String: Double] {
        var fill = l4?.takeRingFill() ?? [:]
        fill.merge(l7?.takeRingFill() ?? [:]) { $1 }
        fill.merge(tls?.takeRingFill() ?? [:]) { $1 }
        return fill
    }

    func drain() throws {
        try l7?.drain()
        try tls?.drain()
    }

    func apply(_ rules: CollectionRules) throws {
        try l4?.apply(rules)
        try l7?.apply(rules)
        try tls?.apply(rules)
    }

    /// Swaps `object`'s programs to `bytes` (nil: the ones embedded in this binary).
    func swapPrograms(_ object: KernelObject, bytes: [UInt8]?) throws {
        switch object {
        case .l4:
            guard let l4 else { throw NotLoaded(object: object) }
            if let bytes { try l4.swapPrograms(bytes: bytes) } else { try l4.swapPrograms() }
        case .l7:
            guard let l7 else { throw NotLoaded(object: object) }
            if let bytes { try l7.swapPrograms(bytes: bytes) } else { try l7.swapPrograms() }
        }
    }

    /// Which objects run here (an object that is off cannot be swapped).
    var loaded: [KernelObject] { (l4 == nil ? [] : [.l4]) + (l7 == nil ? [] : [.l7]) }

    struct NotLoaded: Error, CustomStringConvertible {
        let object: KernelObject
        var description: String { "the \(object.rawValue) programs are not loaded on this host: nothing to swap" }
    }

    func close() {
        l4?.close()
        l7?.close()
        tls?.close()
    }
}
