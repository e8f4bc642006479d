import CNetobsLayout
import Foundation
import NetobsKernel
import NetobsRecords
import NetobsWire

/// HTTP over TLS, from OpenSSL's plaintext (bpf/tls.bpf.c uprobes): `http` records with
/// `http_tls: true`, parsed here per TLS session (HTTP/1.x; HTTP/2 and gRPC), one per exchange.
///
/// Libraries: at start every process's maps are scanned and each libssl file (by inode, seen
/// through /proc/PID/root so pods' mount namespaces count) gets the probes; a uprobe is on
/// the file, so every process mapping it later is covered without more work. New files come
/// with new processes: sched_process_exec events and executable mmaps of a file named libssl*
/// (the loader, or a dlopen long after exec) name the process, whose maps are scanned at the
/// next drain (50 ms), 100 ms and 1 s later; a full rescan every `rescanNs` is the backstop. Processes using TLS the probes do not
/// see (static OpenSSL, Go, GnuTLS, NSS, ...) get one `tls_unsupported` record each.
public final class TLSCollector {
    public struct Options: Sendable {
        public var rescanNs: UInt64 = 5_000_000_000
        /// A session with no call this long is forgotten (its unanswered requests counted).
        public var idleNs: UInt64 = 300_000_000_000
        public var initialRules: CollectionRules?
        public init() {}
    }

    private let loaded: LoadedTLS
    private let chunks: RingDrainer<TLSChunk>
    private let execs: RingDrainer<UInt32>
    private let options: Options
    private let context: RecordContext
    private var sessions = TLSSessions()
    private var scanner = TLSLibraryScanner()
    private var exchanges: [TLSExchange] = []
    private var unsupported: [Record] = []
    private var dueScans: [(pid: UInt32, atNs: UInt64)] = []
    private var nextFullScanNs: UInt64 = 0
    private var attachFailures: UInt64 = 0
    private var loss = LossTracker()
    private var rules: CollectionRules
    /// Processes in netobs_tls_binaries, by the executable name they were listed for.
    private var listed: [UInt32: String] = [:]
    /// The libssl files probed, as their processes name them, with the path used to attach.
    public private(set) var libraries: [String] = []

    public init(options: Options, context: RecordContext) throws {
        self.options = options
        self.context = context
        rules = options.initialRules ?? CollectionRules()
        loaded = try LoadedTLS(rules: rules, attach: true)
        do {
            chunks = try RingDrainer(map: loaded.events) { TLSChunk(raw: $0) }
            execs = try RingDrainer(map: loaded.execs) { raw in
                raw.count >= 4 ? raw.loadUnaligned(as: UInt32.self) : nil
            }
        } catch {
            loaded.close()
            throw error
        }
        if rules.tlsBinaries != nil { try? writeNames() }
        scanAll(now: Clock.monotonicNs())
    }

    deinit { close() }

    public func close() {
        chunks.stop()
        execs.stop()
        loaded.close()
    }

    /// Kept for the features report and the log.
    public static func uprobesAvailable(_ features: KernelFeatures) -> Bool {
        features.allows("kprobe") && FileManager.default.fileExists(atPath: "/sys/bus/event_source/devices/uprobe/type")
    }

    /// The hook as reported.
    static func hook(offBecause reason: String?) -> HookStatus {
        guard let reason else { return HookStatus(hook: "uprobe_openssl", tier: HookTier.portable.rawValue, programType: "kprobe") }
        return HookStatus(hook: "uprobe_openssl", tier: "off", programType: "", metricsOff: ["http_tls"],
                          reason: "\(reason); off: http records of TLS traffic")
    }

    /// Loads the programs without attaching anything: whether they would load.
    public static func trialLoad() throws {
        try LoadedTLS(attach: false).close()
    }

    /// The libssl files a run would probe now (for `--features`).
    public static func librariesOnNode() -> [String] {
        var scanner = TLSLibraryScanner()
        return scanner.scanAll().libraries.map(\.mapped)
    }

    private func scanAll(now: UInt64) {
        let found = scanner.scanAll()
        take(found, now: now)
        let live = Set(TLSLibraryScanner.pids())
        for pid in live { classify(pid) }
        for gone in Set(listed.keys).subtracting(live) { unlist(gone) }
        nextFullScanNs = now + options.rescanNs
        // Sessions and reports of processes that are gone.
        let gone = sessions.pids.subtracting(live)
        if !gone.isEmpty { sessions.forget(pids: gone) }
    }

    private func take(_ found: TLSLibraryScanner.Found, now: UInt64) {
        for library in found.libraries {
            do {
                try loaded.attachLibrary(library.path)
                libraries.append(library.mapped == library.path ? library.path : "\(library.mapped) (\(library.path))")
                AgentLog.info("TLS probes on \(library.mapped) (\(library.path))")
            } catch {
                attachFailures += 1
                AgentLog.warning("TLS probes not attached to \(library.path): \(error)")
            }
        }
        for u in found.unsupported {
            unsupported.append(TLSRecords.unsupportedRecord(pid: u.pid, comm: u.comm, cgroupID: u.cgroupID,
                                                            library: u.library, nowMonotonicNs: now, context: context))
        }
    }

    /// Reads what the rings hold and scans the processes whose time came.
    public func drain() throws {
        let now = Clock.monotonicNs()
        // An exec (scanned when the loader has mapped the libraries, and once more), or a
        // libssl mapped just now (scanned at once).
        for pid in try execs.take() {
            dueScans.append((pid, now))
            dueScans.append((pid, now + 100_000_000))
            dueScans.append((pid, now + 1_000_000_000))
        }
        if !dueScans.isEmpty {
            var found = TLSLibraryScanner.Found()
            for scan in dueScans where scan.atNs <= now {
                scanner.scan(pid: scan.pid, into: &found)
                classify(scan.pid)
            }
            dueScans.removeAll { $0.atNs <= now }
            take(found, now: now)
        }
        for chunk in try chunks.take() { exchanges += sessions.add(chunk) }
    }

    /// The records of the interval that ends now. `final`: the drain threads stop after
    /// reading their rings to the end (a busy node may keep them behind the kernel).
    public func flush(final: Bool = false) throws -> [Record] {
        if final {
            chunks.stop()
            execs.stop()
        }
        try drain()
        let now = Clock.monotonicNs()
        if now >= nextFullScanNs { scanAll(now: now) }
        sessions.expire(nowNs: now, idleNs: options.idleNs)
        // The port and cgroup rules, as the kernel applies them to the other L7 records.
        var records = exchanges.filter { rules.admits(cgroupID: $0.owner.cgroupID, localPort: $0.endpoints.localPort,
                                                      remotePort: $0.endpoints.remotePort) }
            .map { TLSRecords.record($0, context: context) } + unsupported
        exchanges.removeAll(keepingCapacity: true)
        unsupported.removeAll()
        records += loss.flush(totals: counterTotals(), nowMonotonicNs: now, context: context)
        return records
    }

    /// Per ring, the highest fill seen since the last call (0 … 1).
    public func takeRingFill() -> [String: Double] { ["tls_chunks": chunks.fill.take(), "tls_execs": execs.fill.take()] }

    /// Rules `tls` and `tls_binaries`: the probes stay attached; they return at once for a
    /// process not followed. The listed processes are written before the mode. Port and cgroup
    /// rules are applied to the exchanges as they are recorded.
    public func apply(_ rules: CollectionRules) throws {
        self.rules = rules
        try writeNames()
        for pid in Array(listed.keys) { unlist(pid) }
        for pid in TLSLibraryScanner.pids() { classify(pid) }
        try loaded.config.update(key: [0, 0, 0, 0], value: LoadedTLS.config(rules))
    }

    /// The rule's names for the exec tracepoint, which lists a process before it runs.
    private func writeNames() throws {
        var old: [[UInt8]] = []
        try loaded.binaryNames.forEach { key, _ in old.append(Array(key)) }
        _ = loaded.binaryNames.delete(keys: old)
        for name in rules.tlsBinaries?.values ?? [] { try loaded.binaryNames.update(key: LoadedTLS.commKey(name), value: [1]) }
    }

    /// Lists `pid` in netobs_tls_binaries when its name (comm: the executable's file name, 15
    /// bytes) is named by the rule: the processes that ran before the rule or the agent.
    private func classify(_ pid: UInt32) {
        guard let names = rules.tlsBinaries?.values else { return }
        let comm = TLSLibraryScanner.comm(pid)
        let exe = comm.isEmpty ? nil : comm
        if let exe, names.contains(where: { $0.utf8.prefix(15).elementsEqual(exe.utf8.prefix(15)) }) {
            guard listed[pid] != exe else { return }
            try? loaded.binaries.update(key: withUnsafeBytes(of: pid) { Array($0) }, value: [1])
            listed[pid] = exe
        } else if listed[pid] != nil {
            unlist(pid) // exec'd another program
        }
    }

    private func unlist(_ pid: UInt32) {
        _ = loaded.binaries.delete(key: withUnsafeBytes(of: pid) { Array($0) })
        listed[pid] = nil
    }

    static let counterNames = ["tls_ringbuf_full", "tls_no_socket", "tls_calls_map_full"]

    private func counterTotals() -> [String: UInt64] {
        let kernel = loaded.counters.perCPUSums(count: Int(NETOBS_TLS_COUNTER_COUNT.rawValue))
        var totals: [String: UInt64] = [:]
        for (i, name) in Self.counterNames.enumerated() where i < kernel.count { totals[name] = kernel[i] }
        totals["tls_unanswered"] = sessions.unanswered
        totals["tls_response_unmatched"] = sessions.unmatched
        totals["tls_sessions_dropped"] = sessions.sessionsDropped
        totals["http2_undecodable"] = sessions.http2Errors
        totals["tls_attach_failed"] = attachFailures
        return totals
    }
}
