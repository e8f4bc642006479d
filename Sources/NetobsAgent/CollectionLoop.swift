import NetobsKernel
import NetobsRecords
import NetobsWire
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// The agent's main loop, whatever the records' destination: the collectors are flushed every
/// interval and drained in between; SIGHUP hot-swaps the kernel programs; SIGINT or SIGTERM
/// end the loop after a last flush.
public enum CollectionLoop {
    public struct Settings: Sendable {
        public var l4: L4Collector.Options
        /// Per-exchange http/dns records per interval, and distinct URIs in aggregates.
        public var l7RecordCap: Int
        public var l7MaxURIs: Int
        public var intervalNs: UInt64
        /// Whether to load the HTTP/DNS programs (they run on every packet: an operator may
        /// trade them for a lower cost).
        public var l7Enabled = true
        /// Whether to probe OpenSSL for HTTP over TLS (uprobes).
        public var tlsEnabled = true
        /// Whether to load the TCP/UDP flow programs (off: HTTP and DNS only).
        public var l4Enabled = true
        /// What SIGHUP loads per kernel object (called at each reload; a throw keeps that object's
        /// running programs and is logged with its reason). An object without a source gets the
        /// programs embedded in this binary again.
        public var programSources: [KernelObject: @Sendable () throws -> [UInt8]] = [:]
        /// The rules file (`--rules`): applied at start, re-read at each SIGHUP before the program
        /// swap, through the filter maps (no reload needed). A bad file at SIGHUP keeps the rules.
        public var rulesFile: String?
        /// Rewritten after every flush for the probes (`--status-file`); nil: none.
        public var statusFile: String?
        /// Updated after every flush for the probe listener (`--health-listen`); nil: none.
        public var health: AgentHealth?
        /// Work sent by the controller (rules, programs), fetched and done between flushes.
        public var requests: (@Sendable () -> [LoopRequest])?

        public init(l4: L4Collector.Options, l7RecordCap: Int, l7MaxURIs: Int, intervalNs: UInt64) {
            self.l4 = l4
            self.l7RecordCap = l7RecordCap
            self.l7MaxURIs = l7MaxURIs
            self.intervalNs = intervalNs
        }
    }

    private static let stopRequested = Atomic<Bool>(false)
    private static let reloadRequested = Atomic<Bool>(false)
    /// How often closed flows and L7 events are drained from their ring buffers.
    private static let drainPeriodUs: UInt64 = 50_000

    /// Runs until SIGINT/SIGTERM; `deliver` gets each flush's records. `ready` gets the hooks
    /// in use once the programs are loaded, before the first flush.
    public static func run(_ settings: Settings, destination: String, ready: ([HookStatus]) -> Void = { _ in },
                           deliver: ([Record]) throws -> Void) throws {
        var settings = settings
        // The rules file is in force from the first event: the programs attach after its maps are written.
        if let file = settings.rulesFile { settings.l4.initialRules = try loadForAgent(file) }
        let context = RecordContext(node: settings.l4.node, monotonicToUnixNs: Clock.monotonicToUnixOffset())
        let collectors = try Collectors(settings, context: context, features: KernelFeatures.probe())
        defer { collectors.close() }
        log(collectors)
        let podUIDs = settings.l4.cgroupRoot.map { PodUIDResolver(cgroupRoot: $0) }
        var podRules = PodRuleCgroups(cgroupRoot: settings.l4.cgroupRoot)
        func flush(final: Bool = false) throws -> [Record] {
            let records = try collectors.flush(final: final)
            return podUIDs?.label(records) ?? records
        }
        if let file = settings.rulesFile, let rules = settings.l4.initialRules {
            AgentLog.info("rules applied from \(file): \(rules.summary)")
        }
        ready(collectors.hooks)
        settings.health?.update { $0.hooks = collectors.hooks; $0.intervalNs = settings.intervalNs }
        AgentLog.info("collecting on node \(settings.l4.node), \(destination) every \(settings.intervalNs / 1_000_000) ms")
        installSignalHandlers()

        var nextFlush = Clock.monotonicNs() + settings.intervalNs
        while !stopRequested.load(ordering: .relaxed) {
            if reloadRequested.exchange(false, ordering: .relaxed) {
                if let file = settings.rulesFile { reapply(file: file, collectors, &podRules) }
                reload(collectors, sources: settings.programSources)
            }
            for request in settings.requests?() ?? [] { perform(request, collectors, &podRules) }
            let now = Clock.monotonicNs()
            if now >= nextFlush {
                let records = try flush()
                try deliver(records)
                if let path = settings.statusFile { writeStatus(path, records: records.count, collectors, settings) }
                if let health = settings.health { report(records, collectors, settings, to: health) }
                if let again = podRules.refresh(nowNs: now) { reapplyForPods(again, collectors) }
                nextFlush += settings.intervalNs
                if nextFlush <= now { nextFlush = now + settings.intervalNs } // fell behind: skip ahead
                continue
            }
            try collectors.drain()
            usleep(UInt32(min(drainPeriodUs, (nextFlush - now) / 1000 + 1)))
        }
        try deliver(flush(final: true))
    }

    private static func writeStatus(_ path: String, records: Int, _ collectors: Collectors, _ settings: Settings) {
        StatusFile.write(.init(unixNs: Clock.realtimeNs(), intervalNs: settings.intervalNs, records: records,
                               tier: collectors.l4?.tier.rawValue ?? "off",
                               hooksOff: collectors.hooks.filter(\.isOff).map(\.hook)), to: path)
    }

    private static func report(_ records: [Record], _ collectors: Collectors, _ settings: Settings, to health: AgentHealth) {
        health.flushed(records, intervalNs: settings.intervalNs, atUnixNs: Clock.realtimeNs())
        let fill = collectors.takeRingFill()
        health.update { $0.ringFill = fill }
        guard let l4 = collectors.l4 else { return }
        health.update { s in
            (s.tcpFlows, s.udpFlows) = (l4.tcpFlows, l4.udpFlows)
            (s.maxTCPFlows, s.maxUDPFlows) = (settings.l4.maxTCPFlows, settings.l4.maxUDPFlows)
        }
    }

    /// Says which tier each hook runs on, and what is off and why.
    private static func log(_ collectors: Collectors) {
        if let l4 = collectors.l4 {
            let why = l4.fallback.isEmpty ? "" : " (\(l4.fallback))"
            AgentLog.info("L4 hooks on the \(l4.tier.rawValue) tier\(why)")
        }
        for hook in collectors.hooks where hook.isOff {
            AgentLog.warning("hook \(hook.hook) is off: \(hook.reason)")
        }
    }

    /// The agent's own rules file, refused when only the controller could apply it.
    private static func loadForAgent(_ file: String) throws -> CollectionRules {
        let rules = try CollectionRules.load(path: file)
        if let reason = rules.needsController { throw CollectionRules.Invalid("rules file \(file): \(reason)") }
        return rules
    }

    /// SIGHUP: a file that does not parse, or maps that refuse it, leave the previous rules.
    private static func reapply(file: String, _ collectors: Collectors, _ podRules: inout PodRuleCgroups) {
        let before = podRules
        do {
            let rules = try loadForAgent(file)
            try collectors.apply(podRules.kernelRules(for: rules, nowNs: Clock.monotonicNs()))
            AgentLog.info("rules applied from \(file): \(rules.summary)")
        } catch {
            podRules = before
            AgentLog.error("rules not applied, the previous ones stay: \(error)")
        }
    }

    /// The pods the rules select started or stopped containers: their cgroups go to the maps.
    private static func reapplyForPods(_ rules: CollectionRules, _ collectors: Collectors) {
        do {
            try collectors.apply(rules)
            AgentLog.info("rules follow the selected pods: \(rules.cgroups?.values.count ?? 0) cgroups now")
        } catch {
            AgentLog.error("the selected pods' cgroups could not be written to the kernel maps: \(error)")
        }
    }

    /// SIGHUP: every loaded object is swapped, each on its own (one refused leaves the others).
    private static func reload(_ collectors: Collectors, sources: [KernelObject: @Sendable () throws -> [UInt8]]) {
        for object in collectors.loaded {
            do {
                try collectors.swapPrograms(object, bytes: try sources[object]?())
                AgentLog.info("kernel programs swapped: \(object.rawValue) generation \(collectors.generation(of: object)) "
                    + "is active, state kept")
            } catch {
                AgentLog.error("reloading the \(object.rawValue) programs failed; the running ones stay: \(error)")
            }
        }
    }

    private static func perform(_ request: LoopRequest, _ collectors: Collectors, _ podRules: inout PodRuleCgroups) {
        switch request {
        case .applyRules(let rules, let origin, let done):
            let before = podRules
            do {
                let kernel = podRules.kernelRules(for: rules, nowNs: Clock.monotonicNs())
                try collectors.apply(kernel)
                if let uids = rules.podUIDs {
                    AgentLog.info("\(uids.values.count) selected pods of this node have \(kernel.cgroups?.values.count ?? 0) cgroups now")
                }
                AgentLog.info("rules applied from \(origin): \(rules.summary)")
                done(nil)
            } catch {
                podRules = before
                AgentLog.error("rules from \(origin) not applied: \(error)")
                done(error)
            }
        case .swapPrograms(let object, let bytes, let origin, let done):
            do {
                try collectors.swapPrograms(object, bytes: bytes)
                AgentLog.info("kernel programs swapped to \(origin): \(object.rawValue) generation "
                    + "\(collectors.generation(of: object)) is active, state kept")
                done(nil)
            } catch {
                AgentLog.error("\(origin) not loaded; the running \(object.rawValue) programs stay: \(error)")
                done(error)
            }
        }
    }

    private static func installSignalHandlers() {
        // A parent may have left these blocked in the mask we inherited.
        var set = sigset_t()
        sigemptyset(&set)
        for sig in [SIGINT, SIGTERM, SIGHUP] { sigaddset(&set, sig) }
        pthread_sigmask(SIG_UNBLOCK, &set, nil)
        signal(SIGINT) { _ in CollectionLoop.stopRequested.store(true, ordering: .relaxed) }
        signal(SIGTERM) { _ in CollectionLoop.stopRequested.store(true, ordering: .relaxed) }
        signal(SIGHUP) { _ in CollectionLoop.reloadRequested.store(true, ordering: .relaxed) }
        signal(SIGPIPE, SIG_IGN)
    }
}
