import CNetobsLayout
import NetobsKernel
import NetobsPrograms
import NetobsRecords

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

        public init(node: String, cgroupRoot: String) {
            self.node = node
            self.cgroupRoot = cgroupRoot
        }
    }

    static let objectName = "l7"
    enum Maps {
        static let events = "netobs_l7_events"
        static let dnsPending = "netobs_dns_pending"
        static let httpConns = "netobs_http_conns"
        static let counters = "netobs_l7_counters"
    }

    private let object: BPFObject
    private let dnsPending: BPFMap
    private let httpConns: BPFMap
    private let counters: BPFMap
    private var ring: RingBuffer?
    private var completed: [L7Event] = []
    private var loss = LossTracker()
    private var unanswered: UInt64 = 0
    private let options: Options
    private let context: RecordContext

    public init(options: Options, context: RecordContext) throws {
        self.options = options
        self.context = context
        object = try BPFObject(bytes: EmbeddedPrograms.l7.bytes, name: Self.objectName)
        try object.load()
        for program in object.programs {
            try object.attach(program, cgroup: options.cgroupRoot)
        }
        dnsPending = try object.map(named: Maps.dnsPending)
        httpConns = try object.map(named: Maps.httpConns)
        counters = try object.map(named: Maps.counters)
        ring = try RingBuffer(map: try object.map(named: Maps.events)) { [unowned self] raw in
            if let event = L7Event(raw: raw) { self.completed.append(event) }
        }
    }

    deinit { close() }

    /// The collector, or nil with a warning that names what is off: the agent keeps L4.
    public static func start(node: String, cgroupRoot: String?, context: RecordContext) -> L7Collector? {
        guard let cgroupRoot else {
            AgentLog.warning("no cgroup v2 mount: off: http and dns records")
            return nil
        }
        do {
            return try L7Collector(options: Options(node: node, cgroupRoot: cgroupRoot), context: context)
        } catch {
            AgentLog.warning("L7 programs (\(objectName)) not loaded: off: http and dns records: \(error)")
            return nil
        }
    }

    /// Collects the exchanges completed since the last call (the kernel does not wake us).
    public func drain() throws {
        try ring?.consume()
    }

    /// The records of the interval that ends now.
    public func flush() throws -> [Record] {
        try ring?.consume()
        var records = completed.map { L7Records.record($0, context: context) }
        completed.removeAll(keepingCapacity: true)
        let now = Clock.monotonicNs()

        var pending: [([UInt8], L7Event)] = []
        try dnsPending.forEach { key, value in
            if let event = L7Event(raw: value) { pending.append((Array(key), event)) }
        }
        for (key, event) in L7Records.timedOut(pending, nowMonotonicNs: now, timeoutNs: options.dnsTimeoutNs) {
            // The kernel deletes the entry when the answer comes: whoever deletes it reports it.
            if dnsPending.delete(key: key) {
                records.append(L7Records.timeoutRecord(event, nowMonotonicNs: now, context: context))
            }
        }

        var idle: [[UInt8]] = []
        try httpConns.forEach { key, value in
            guard let conn = HTTPConnState(raw: value), now > conn.lastNs,
                  now - conn.lastNs >= options.httpIdleNs else { return }
            idle.append(Array(key))
            unanswered += UInt64(conn.pending)
        }
        httpConns.delete(keys: idle)

        records += loss.flush(totals: counterTotals(), nowMonotonicNs: now, context: context)
        return records
    }

    public func close() {
        ring?.close()
        ring = nil
        object.close()
    }

    private func counterTotals() -> [String: UInt64] {
        let kernel = counters.perCPUSums(count: Int(NETOBS_L7_COUNTER_COUNT.rawValue))
        var totals: [String: UInt64] = [:]
        for (i, name) in L7Records.counterNames.enumerated() where i < kernel.count {
            totals[name] = kernel[i]
        }
        totals["http_request_unanswered"] = unanswered
        return totals
    }
}
