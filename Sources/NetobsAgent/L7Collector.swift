import CNetobsLayout
import NetobsKernel
import NetobsPrograms
import NetobsRecords
import NetobsWire

/// Loads bpf/l7.bpf.c (cgroup_skb programs on the cgroup v2 root) and turns what it keeps into
/// records, once per flush: `http_aggregate`/`dns_aggregate` from the kernel's per-key totals
/// (deltas of a batch read), `http`/`dns` exemplars from the ring buffer (errors, slow ones and
/// a 1-in-N sample per key, chosen in the kernel by the rules), DNS queries left unanswered as
/// timeouts (an exemplar each, and counted in an aggregate), `tcp_latency` per connection.
/// The work per interval follows the number of keys, exemplars and active connections, not the
/// number of exchanges.
public final class L7Collector {
    public struct Options: Sendable {
        public var node: String
        public var cgroupRoot: String
        /// A query unanswered this long is reported with dns_response_code TIMEOUT. 5 s is the
        /// glibc resolver's default wait per try (resolv.conf `timeout:`).
        public var dnsTimeoutNs: UInt64 = 5_000_000_000
        /// A connection's latency entry with no answer this long leaves the map (its socket
        /// may be gone without a FIN or RST seen).
        public var latencyIdleNs: UInt64 = 300_000_000_000
        /// Exemplar records per flush interval (`--l7-record-cap`); past it they are counted as
        /// `l7_exemplars_over_cap` (their exchanges are in the aggregates all the same).
        public var recordCap: Int = 10_000
        /// Distinct URIs (or DNS names) in one interval's aggregates (`--l7-max-uris`); past
        /// it, the least used become "<other>", counted as `l7_uri_overflow`.
        public var maxAggregateURIs: Int = 1_000
        /// Intervals without a change after which an aggregate key leaves the kernel map.
        public var aggregateIdleIntervals: Int = 60
        /// Keys the kernel's aggregate map holds (nil: sized by `LoadedL7.aggregateKeys()` from
        /// the CPU count); past it, exchanges go to one overflow aggregate per kind, counted.
        public var aggregateKeys: Int?
        /// Rules in force before the programs attach (the L7 programs read `l7`, the port and
        /// cgroup filters and the exemplar settings).
        public var initialRules: CollectionRules?

        public init(node: String, cgroupRoot: String) {
            self.node = node
            self.cgroupRoot = cgroupRoot
        }
    }

    static let objectName = LoadedL7.objectName

    private var loaded: LoadedL7
    private var epoch: UInt32 = 0
    private var rules = CollectionRules()
    private var ring: RingBuffer?
    /// h2c payload (netobs_l7_plain) and the HTTP/2 sessions it feeds.
    private var plainRing: RingBuffer?
    private var fill: [(name: String, peak: RingFillPeak)] = []
    private var h2c = TLSSessions(keyedByProcess: false)
    private var h2cExchanges: [TLSExchange] = []
    private var exemplars: [L7Event] = []
    private var deltas: L7AggregateDeltas
    private var overflowBefore: [L7Event.Kind: L7AggregateCounts] = [:]
    private var aggregateRecords: L7AggregateRecords
    private var exemplarCap: L7ExemplarCap
    private var texts = L7TextCatalog()
    private var latency = TCPLatencyTracker()
    private var loss = LossTracker()
    private let options: Options
    private let context: RecordContext
    /// Whether the programs count UDP datagrams (into the L4 object's flow map).
    private let countsUDP: Bool

    /// `udpFlows`: the L4 object's UDP flow map, which the programs count datagrams into (nil
    /// without the L4 programs: no UDP flows).
    public init(options: Options, context: RecordContext, udpFlows: BPFMap? = nil) throws {
        self.options = options
        self.context = context
        countsUDP = udpFlows != nil
        deltas = L7AggregateDeltas(idleIntervals: options.aggregateIdleIntervals)
        aggregateRecords = L7AggregateRecords(maxTexts: options.maxAggregateURIs)
        exemplarCap = L7ExemplarCap(cap: options.recordCap)
        rules = options.initialRules ?? CollectionRules()
        loaded = try LoadedL7(bytes: EmbeddedPrograms.l7.bytes, generation: 0, cgroupRoot: options.cgroupRoot,
                              config: Self.config(epoch: 0, generation: 0, rules: rules, countsUDP: countsUDP),
                              rules: rules, sharingMapsWith: nil,
                              aggregateKeys: options.aggregateKeys ?? LoadedL7.aggregateKeys(), udpFlows: udpFlows)
        ring = try makeRing()
        plainRing = try makePlainRing()
        // The maps stay across hot swaps (the new programs share them), so one mapping each serves.
        fill = [("l7_events", try RingFillPeak(map: loaded.events)), ("l7_plain", try RingFillPeak(map: loaded.plain))]
    }

    /// Per ring, the highest fill seen since the last call (0 … 1).
    public func takeRingFill() -> [String: Double] {
        Dictionary(uniqueKeysWithValues: fill.map { ($0.name, $0.peak.take()) })
    }

    /// The generation of the programs doing the work now (0 for the first load).
    public var generation: UInt32 { loaded.generation }

    /// The kernel ids of the programs doing the work now (a reload changes them).
    public var programIDs: [UInt32] { loaded.object.programs.compactMap(\.id) }

    /// Replaces the L7 programs with a new copy (`bytes`, or the embedded ones again) while
    /// traffic flows, with the guarantees of the L4 swap: the new copy shares the maps (per-key
    /// totals, texts, pending queries, connection state, counters), becomes active in one map
    /// write, then the old copy is detached. A copy the kernel refuses (the error carries the
    /// verifier log) leaves the running one untouched.
    public func swapPrograms(bytes: [UInt8] = EmbeddedPrograms.l7.bytes) throws {
        let next = try LoadedL7(bytes: bytes, generation: loaded.generation &+ 1, cgroupRoot: options.cgroupRoot,
                                sharingMapsWith: loaded)
        try ring?.consume()
        try plainRing?.consume()
        let previous = loaded
        loaded = next
        try writeConfig() // the flip: from here on only the new copy works
        ring?.close()
        ring = try makeRing()
        plainRing?.close()
        plainRing = try makePlainRing()
        previous.close()
    }

    private func makeRing() throws -> RingBuffer {
        try RingBuffer(map: loaded.events) { [unowned self] raw in
            if let event = L7Event(raw: raw) { self.exemplars.append(event) }
        }
    }

    private func makePlainRing() throws -> RingBuffer {
        try RingBuffer(map: loaded.plain) { [unowned self] raw in
            if let chunk = TLSChunk(raw: raw) { self.h2cExchanges += self.h2c.add(chunk) }
        }
    }

    /// One write carries everything the programs read: the interval, the active copy and the
    /// rules' L7 settings.
    private func writeConfig() throws {
        try loaded.config.update(key: [0, 0, 0, 0], value: Self.config(epoch: epoch, generation: loaded.generation, rules: rules,
                                                                          countsUDP: countsUDP))
    }

    /// `struct netobs_l7_config`.
    static func config(epoch: UInt32, generation: UInt32, rules: CollectionRules, countsUDP: Bool) -> [UInt8] {
        var value = netobs_l7_config()
        value.epoch = epoch
        value.generation = generation
        value.sample_every = rules.l7SampleEvery
        value.l7_off = rules.l7 ? 0 : 1
        value.port_mode = RuleMaps.mode(rules.ports?.mode)
        value.cgroup_mode = RuleMaps.mode(rules.cgroups?.mode)
        value.slow_ns = UInt64(rules.l7SlowMs) * 1_000_000
        value.udp_flows = countsUDP && rules.udp ? 1 : 0
        value.flow_sample_every = rules.sampleEvery
        return withUnsafeBytes(of: value) { Array($0) }
    }

    deinit { close() }

    /// The Table-1 fields the L7 programs give (off with them).
    public static let metrics = ["http_request_method", "http_request_uri", "http_request_version", "http_status_code",
                                 "http_duration", "dns_transaction_id", "dns_query_domain", "dns_query_type",
                                 "dns_response_code", "dns_duration"]

    /// The UDP fields the programs count for the L4 collector.
    static let udpMetrics = ["udp_tx_bytes", "udp_rx_bytes", "udp_duration"]

    /// The L7 hook as reported: on (no reason), or off and why (with the UDP flows when the L4
    /// programs are there to read them).
    static func hook(offBecause reason: String?, udpFlows: Bool = false) -> HookStatus {
        guard let reason else {
            return HookStatus(hook: "cgroup_skb", tier: HookTier.portable.rawValue, programType: "cgroup_skb")
        }
        return HookStatus(hook: "cgroup_skb", tier: "off", programType: "", metricsOff: metrics + (udpFlows ? udpMetrics : []),
                          reason: "\(reason); off: http and dns records" + (udpFlows ? ", udp flows" : ""))
    }

    static func loadFailure(_ error: any Error) -> String {
        "the L7 programs did not load: " + ((error as? KernelError)?.summary ?? "\(error)")
    }

    /// Loads the L7 programs without attaching them and frees them: whether they would load.
    public static func trialLoad() throws {
        try LoadedL7(bytes: EmbeddedPrograms.l7.bytes, generation: 0, cgroupRoot: nil, sharingMapsWith: nil).close()
    }

    /// Collects the exemplars sent since the last call (the kernel does not wake us).
    public func drain() throws {
        for f in fill { f.peak.sample() }
        try ring?.consume()
        try plainRing?.consume()
    }

    /// The records of the interval that ends now.
    public func flush() throws -> [Record] {
        for f in fill { f.peak.sample() }
        try ring?.consume()
        try plainRing?.consume()
        let now = Clock.monotonicNs()
        let ended = epoch
        epoch &+= 1
        try writeConfig()

        let timeouts = try takeTimeouts(now: now)
        var records = exemplarRecords(timeouts: timeouts, now: now)
        exemplars.removeAll(keepingCapacity: true)
        records += try aggregates(endedEpoch: ended, timeouts: timeouts, now: now)
        records += try flushLatency(endedEpoch: ended, now: now)
        texts.endInterval()
        records += h2cExchanges.map { TLSRecords.record($0, context: context, tls: false) }
        h2cExchanges.removeAll(keepingCapacity: true)
        h2c.expire(nowNs: now, idleNs: options.latencyIdleNs)
        records += loss.flush(totals: counterTotals(), nowMonotonicNs: now, context: context)
        return records
    }

    /// Pending queries older than the DNS timeout, taken from the map. The kernel deletes an
    /// entry when the answer comes: whoever deletes it reports it.
    private func takeTimeouts(now: UInt64) throws -> [L7Event] {
        var pending: [([UInt8], L7Event)] = []
        try loaded.dnsPending.forEach { key, value in
            if let event = L7Event(raw: value) { pending.append((Array(key), event)) }
        }
        return L7Records.timedOut(pending, nowMonotonicNs: now, timeoutNs: options.dnsTimeoutNs)
            .filter { loaded.dnsPending.delete(key: $0.0) }
            .map(\.1)
    }

    private enum Exemplar {
        case exchange(L7Event)
        case timeout(L7Event)
    }

    /// The interval's exemplars within the record cap, errors first.
    private func exemplarRecords(timeouts: [L7Event], now: UInt64) -> [Record] {
        let all = exemplars.map(Exemplar.exchange) + timeouts.map(Exemplar.timeout)
        let kept = exemplarCap.select(all) { item in
            if case .exchange(let e) = item { return e.reason }
            return .error
        }
        return kept.map { item in
            switch item {
            case .exchange(let e):
                return L7Records.record(e, text: text(e.textID).text, context: context)
            case .timeout(let e):
                return L7Records.timeoutRecord(e, text: text(e.textID).text, nowMonotonicNs: now, context: context)
            }
        }
    }

    private func text(_ id: UInt64) -> (text: String, truncated: Bool) {
        texts.text(id) { id in
            loaded.texts.lookup(key: withUnsafeBytes(of: id) { Array($0) })?.withUnsafeBytes { L7Text(raw: $0) }
        }
    }

    /// `http_aggregate`/`dns_aggregate` records: the kernel's totals since the last read, the
    /// timeouts counted here, and what overflowed the kernel map.
    private func aggregates(endedEpoch: UInt32, timeouts: [L7Event], now: UInt64) throws -> [Record] {
        var current: [(L7AggregateKey, L7AggregateCounts)] = []
        let cpus = BPFMap.possibleCPUs
        try loaded.aggregates.forEach { key, value in
            if let k = L7AggregateKey(raw: key), let c = L7AggregateCounts(perCPU: value, cpus: cpus, endedEpoch: endedEpoch) {
                current.append((k, c))
            }
        }
        var (changed, idle) = deltas.update(current)
        for key in idle {
            let final = loaded.aggregates.lookupAndDelete(key: key.raw)?.withUnsafeBytes {
                L7AggregateCounts(perCPU: $0, cpus: cpus, endedEpoch: endedEpoch)
            }
            if let last = deltas.removed(key, final: final) { changed.append((key, last)) }
        }
        var timedOut: [L7AggregateKey: L7AggregateCounts] = [:]
        for e in timeouts { timedOut[.timeout(e), default: L7AggregateCounts()].add(ns: now > e.startNs ? now - e.startNs : 0) }
        changed += timedOut.sorted { $0.key.textID < $1.key.textID }.map { ($0.key, $0.value) }

        var records = aggregateRecords.records(changed, texts: { self.text($0.textID) }, nowMonotonicNs: now,
                                               context: context)
        for kind in [L7Event.Kind.http, .dns] {
            let index = withUnsafeBytes(of: UInt32(kind.rawValue)) { Array($0) }
            guard let raw = loaded.overflow.lookup(key: index),
                  let total = raw.withUnsafeBytes({ L7AggregateCounts(perCPU: $0, cpus: cpus, endedEpoch: endedEpoch) })
            else { continue }
            let delta = total.since(overflowBefore[kind] ?? L7AggregateCounts())
            overflowBefore[kind] = total
            if delta.count > 0 {
                records.append(L7AggregateRecords.overflowRecord(kind: kind, delta, nowMonotonicNs: now, context: context))
            }
        }
        return records
    }

    /// `tcp_latency` records of the connections that answered requests in the interval that
    /// ended; entries of closed (after a second: a half-closed connection may still be answered)
    /// and long idle connections leave the map.
    private func flushLatency(endedEpoch: UInt32, now: UInt64) throws -> [Record] {
        var changed: [(UInt64, TCPTurns)] = []
        var gone: [UInt64] = []
        try loaded.tcpLatency.forEach { key, raw in
            guard key.count >= 8, let header = TCPTurns.Header(raw: raw) else { return }
            let cookie = key.loadUnaligned(as: UInt64.self)
            // Changed in the interval that ended or since (or at the switch between them).
            if epoch &- header.changedEpoch <= 2, let turns = TCPTurns(raw: raw) { changed.append((cookie, turns)) }
            let idle = now > header.lastNs ? now - header.lastNs : 0
            if (header.closed && idle >= 1_000_000_000) || idle >= options.latencyIdleNs { gone.append(cookie) }
        }
        let records = latency.flush(changed, removed: gone, endedEpoch: endedEpoch, nowMonotonicNs: now, context: context)
        loaded.tcpLatency.delete(keys: gone.map { cookie in withUnsafeBytes(of: cookie) { Array($0) } })
        return records
    }

    /// Applies the L7 settings of `rules` (on/off, port and cgroup filters, exemplar sampling
    /// and slowness): the filter sets first, then one config write that carries the modes; the
    /// programs stay loaded and attached. As on the L4 side, the filters judge a connection once
    /// (where the L7 programs make its state) and a DNS query when it is sent: a change applies
    /// to connections and queries that start after it.
    public func apply(_ rules: CollectionRules) throws {
        self.rules = rules
        try RuleMaps.writeSets(rules, ports: loaded.rulePorts, cgroups: loaded.ruleCgroups)
        try writeConfig()
    }

    public func close() {
        ring?.close()
        ring = nil
        plainRing?.close()
        plainRing = nil
        loaded.close()
    }

    private func counterTotals() -> [String: UInt64] {
        let kernel = loaded.counters.perCPUSums(count: Int(NETOBS_L7_COUNTER_COUNT.rawValue))
        var totals: [String: UInt64] = [:]
        for (i, name) in L7Records.counterNames.enumerated() where i < kernel.count {
            totals[name] = kernel[i]
        }
        totals["l7_text_unknown"] = texts.unknownTotal
        totals["l7_uri_overflow"] = aggregateRecords.overflowTotal
        totals["h2c_undecodable"] = h2c.http2Errors
        totals["h2c_unanswered"] = h2c.unanswered
        totals.merge(exemplarCap.counterTotals) { $1 }
        return totals
    }
}
