import CNetobsLayout
import NetobsKernel
import NetobsPrograms
import NetobsRecords
import NetobsWire

/// Loads bpf/l7.bpf.c (cgroup_skb programs on the cgroup v2 root) and turns its events into
/// `http` and `dns` records: exchanges completed in the kernel arrive on a ring buffer; DNS
/// queries left unanswered are taken from the pending map as timeouts; idle HTTP connection
/// state is swept.
public final class L7Collector {
    public struct Options: Sendable {
        public var node: String
        public var cgroupRoot: String
        /// A query unanswered this long is reported with dns_response_code TIMEOUT. 5 s is the
        /// glibc resolver's default wait per try (resolv.conf `timeout:`).
        public var dnsTimeoutNs: UInt64 = 5_000_000_000
        /// HTTP connection state unused this long is dropped (its pending requests counted).
        public var httpIdleNs: UInt64 = 300_000_000_000
        /// Per-exchange `http`/`dns` records per flush interval (`--l7-record-cap`); past it,
        /// exchanges fold into `http_aggregate`/`dns_aggregate` records, counted as
        /// `l7_records_aggregated`.
        public var recordCap: Int = 10_000
        /// Distinct URIs (or DNS names) in one interval's aggregates (`--l7-max-uris`); past
        /// it, "<other>", counted as `l7_uri_overflow`.
        public var maxAggregateURIs: Int = 1_000
        /// Rules in force before the programs attach (the L7 programs read only `l7`).
        public var initialRules: CollectionRules?

        public init(node: String, cgroupRoot: String) {
            self.node = node
            self.cgroupRoot = cgroupRoot
        }
    }

    static let objectName = LoadedL7.objectName

    private var loaded: LoadedL7
    private var epoch: UInt32 = 0
    private var latency = TCPLatencyTracker()
    private var ring: RingBuffer?
    private var completed: [L7Event] = []
    private var loss = LossTracker()
    private var unanswered: UInt64 = 0
    private var recordCap: L7RecordCap
    private let options: Options
    private let context: RecordContext

    public init(options: Options, context: RecordContext) throws {
        self.options = options
        self.context = context
        recordCap = L7RecordCap(cap: options.recordCap, maxKeys: options.maxAggregateURIs)
        loaded = try LoadedL7(bytes: EmbeddedPrograms.l7.bytes, generation: 0, cgroupRoot: options.cgroupRoot,
                              rules: options.initialRules, sharingMapsWith: nil)
        ring = try makeRing()
    }

    /// The generation of the programs doing the work now (0 for the first load).
    public var generation: UInt32 { loaded.generation }

    /// Replaces the L7 programs with a new copy (`bytes`, or the embedded ones again) while
    /// traffic flows, with the guarantees of the L4 swap: the new copy shares the maps (requests
    /// pending a response, connection state, counters), becomes active in one map write, then
    /// the old copy is detached. A copy the kernel refuses (the error carries the verifier log)
    /// leaves the running one untouched.
    public func swapPrograms(bytes: [UInt8] = EmbeddedPrograms.l7.bytes) throws {
        let next = try LoadedL7(bytes: bytes, generation: loaded.generation &+ 1, cgroupRoot: options.cgroupRoot,
                                sharingMapsWith: loaded)
        try ring?.consume()
        let previous = loaded
        loaded = next
        try writeConfig() // the flip: from here on only the new copy works
        ring?.close()
        ring = try makeRing()
        previous.close()
    }

    private func makeRing() throws -> RingBuffer {
        try RingBuffer(map: loaded.events) { [unowned self] raw in
            if let event = L7Event(raw: raw) { self.completed.append(event) }
        }
    }

    private func writeConfig() throws {
        var value = netobs_l7_config()
        value.epoch = epoch
        value.generation = loaded.generation
        try loaded.config.update(key: [0, 0, 0, 0], value: withUnsafeBytes(of: value) { Array($0) })
    }

    deinit { close() }

    /// The Table-1 fields the L7 programs give (off with them).
    public static let metrics = ["http_request_method", "http_request_uri", "http_request_version", "http_status_code",
                                 "http_duration", "dns_transaction_id", "dns_query_domain", "dns_query_type",
                                 "dns_response_code", "dns_duration"]

    /// The L7 hook as reported: on (no reason), or off and why.
    static func hook(offBecause reason: String?) -> HookStatus {
        guard let reason else {
            return HookStatus(hook: "cgroup_skb", tier: HookTier.portable.rawValue, programType: "cgroup_skb")
        }
        return HookStatus(hook: "cgroup_skb", tier: "off", programType: "", metricsOff: metrics,
                          reason: "\(reason); off: http and dns records")
    }

    static func loadFailure(_ error: any Error) -> String {
        "the L7 programs did not load: " + ((error as? KernelError)?.summary ?? "\(error)")
    }

    /// Loads the L7 programs without attaching them and frees them: whether they would load.
    public static func trialLoad() throws {
        try LoadedL7(bytes: EmbeddedPrograms.l7.bytes, generation: 0, cgroupRoot: nil, sharingMapsWith: nil).close()
    }

    /// Collects the exchanges completed since the last call (the kernel does not wake us).
    public func drain() throws {
        try ring?.consume()
    }

    /// The records of the interval that ends now.
    public func flush() throws -> [Record] {
        try ring?.consume()
        let now = Clock.monotonicNs()
        var records = recordCap.records(completed, nowMonotonicNs: now, context: context)
        completed.removeAll(keepingCapacity: true)

        var pending: [([UInt8], L7Event)] = []
        try loaded.dnsPending.forEach { key, value in
            if let event = L7Event(raw: value) { pending.append((Array(key), event)) }
        }
        for (key, event) in L7Records.timedOut(pending, nowMonotonicNs: now, timeoutNs: options.dnsTimeoutNs) {
            // The kernel deletes the entry when the answer comes: whoever deletes it reports it.
            if loaded.dnsPending.delete(key: key) {
                records.append(L7Records.timeoutRecord(event, nowMonotonicNs: now, context: context))
            }
        }

        var idle: [[UInt8]] = []
        try loaded.httpConns.forEach { key, value in
            guard let conn = HTTPConnState(raw: value), now > conn.lastNs,
                  now - conn.lastNs >= options.httpIdleNs else { return }
            idle.append(Array(key))
            unanswered += UInt64(conn.pending)
        }
        loaded.httpConns.delete(keys: idle)

        records += try flushLatency(now: now)
        records += loss.flush(totals: counterTotals(), nowMonotonicNs: now, context: context)
        return records
    }

    /// `tcp_latency` records of the interval that ends now; closed and idle connections leave
    /// the map once reported.
    private func flushLatency(now: UInt64) throws -> [Record] {
        let ended = epoch
        epoch &+= 1
        try writeConfig()
        var entries: [([UInt8], TCPTurns)] = []
        var gone: [[UInt8]] = []
        try loaded.tcpTurns.forEach { key, raw in
            guard let turns = TCPTurns(raw: raw) else { return }
            let k = Array(key)
            entries.append((k, turns))
            // A closed connection lingers a second: a half-closed one may still be answered.
            let idle = now > turns.lastNs ? now - turns.lastNs : 0
            if (turns.closed && idle >= 1_000_000_000) || idle >= options.httpIdleNs { gone.append(k) }
        }
        let records = latency.flush(entries, endedEpoch: ended, nowMonotonicNs: now, context: context)
        loaded.tcpTurns.delete(keys: gone)
        return records
    }

    /// Applies the L7 switch of `rules` (the programs stay attached and return at once when off).
    public func apply(_ rules: CollectionRules) throws {
        try loaded.rules.update(key: [0, 0, 0, 0], value: RuleMaps.value(of: rules))
    }

    public func close() {
        ring?.close()
        ring = nil
        loaded.close()
    }

    private func counterTotals() -> [String: UInt64] {
        let kernel = loaded.counters.perCPUSums(count: Int(NETOBS_L7_COUNTER_COUNT.rawValue))
        var totals: [String: UInt64] = [:]
        for (i, name) in L7Records.counterNames.enumerated() where i < kernel.count {
            totals[name] = kernel[i]
        }
        totals["http_request_unanswered"] = unanswered
        totals.merge(recordCap.counterTotals) { $1 }
        return totals
    }
}
