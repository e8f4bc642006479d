import NetobsRecords

/// Per-pod and per-edge counters built from records; pure and bounded.
///
/// A record counts for the pod that owns the socket (the `src_*` side: the agent reports from
/// the local end). An edge is client → server: as reported by the client (`reporter="client"`,
/// source = the record's source) or by the server (`reporter="server"`, source = the record's
/// destination); both ends of one exchange may report it, as in Istio's metrics.
///
/// Cardinality: at most `maxPods` pod keys and `maxEdges` edge keys; records of further keys are
/// folded into one series with every label "other" and counted in `overflowRecords`. A key that
/// saw no record for `idleGraceNs` is forgotten (its series leave /metrics, and its slot goes to
/// a new key), so pods that come and go do not end up in "other" for good. Label values from
/// records are kept only from bounded sets (roles, status classes, DNS rcodes); anything else
/// becomes "other". A missing name (a record not joined with topology) is "unknown".
///
/// `loss` records feed a third table, (node, reason) → records lost, bounded by `maxLossKeys`
/// and forgotten the same way.
struct MetricsTables: Sendable {
    struct Limits: Sendable, Equatable {
        var maxPods = 1_000
        var maxEdges = 5_000
        /// Idle keys are forgotten after this (0: never).
        var idleGraceNs: UInt64 = 600_000_000_000
        var maxLossKeys = 4_096
    }

    /// Idle keys are looked for at most this often (and when a scrape asks).
    static let evictionIntervalNs: UInt64 = 1_000_000_000

    struct LossKey: Hashable, Sendable, Comparable {
        var node: String
        var reason: String
        static func < (a: LossKey, b: LossKey) -> Bool { (a.node, a.reason) < (b.node, b.reason) }
    }

    struct PodKey: Hashable, Sendable, Comparable {
        var namespace: String
        var pod: String
        static func < (a: PodKey, b: PodKey) -> Bool { (a.namespace, a.pod) < (b.namespace, b.pod) }
    }

    struct EdgeKey: Hashable, Sendable, Comparable {
        var reporter: String
        var srcNamespace: String
        var srcPod: String
        var dstNamespace: String
        var dstPod: String
        var dstService: String
        var labels: [String] { [reporter, srcNamespace, srcPod, dstNamespace, dstPod, dstService] }
        static func < (a: EdgeKey, b: EdgeKey) -> Bool { a.labels.lexicographicallyPrecedes(b.labels) }
    }

    /// (role, outcome), e.g. ("client", "5xx") or ("server", "NXDOMAIN").
    struct Outcome: Hashable, Sendable, Comparable {
        var role: String
        var value: String
        static func < (a: Outcome, b: Outcome) -> Bool { (a.role, a.value) < (b.role, b.value) }
    }

    struct PodSeries: Sendable, Equatable {
        var tcpTxBytes: UInt64 = 0
        var tcpRxBytes: UInt64 = 0
        var tcpRetransmits: UInt64 = 0
        var tcpDrops: UInt64 = 0
        var tcpTLP: UInt64 = 0
        var udpTxBytes: UInt64 = 0
        var udpRxBytes: UInt64 = 0
        var httpRequests: [Outcome: UInt64] = [:]
        var httpDuration: [String: DurationHistogram] = [:]
        var dnsRequests: [Outcome: UInt64] = [:]
        var dnsDuration: [String: DurationHistogram] = [:]
    }

    struct EdgeSeries: Sendable, Equatable {
        var requests: UInt64 = 0
        var bytes: UInt64 = 0
    }

    static let other = "other"
    static let unknown = "unknown"
    static let roles: Set<String> = ["client", "server"]
    static let rcodes: Set<String> = Set((0...15).map { L7Names.dnsResponseCode(UInt8($0)) } + [L7Records.dnsTimeoutCode])

    let limits: Limits
    private(set) var pods: [PodKey: PodSeries] = [:]
    private(set) var edges: [EdgeKey: EdgeSeries] = [:]
    private(set) var losses: [LossKey: UInt64] = [:]
    private(set) var overflowRecords: (pods: UInt64, edges: UInt64) = (0, 0)
    private(set) var evictedKeys: (pods: UInt64, edges: UInt64, losses: UInt64) = (0, 0, 0)
    private(set) var records: UInt64 = 0
    /// When each key last counted a record (the store's clock, ns).
    private var podSeen: [PodKey: UInt64] = [:]
    private var edgeSeen: [EdgeKey: UInt64] = [:]
    private var lossSeen: [LossKey: UInt64] = [:]
    private var lastEvictionNs: UInt64 = 0

    init(limits: Limits = Limits()) { self.limits = limits }

    /// Counts one record at `nowNs` (any monotonic clock; 0 in tests that do not evict).
    mutating func add(_ r: RecordView, nowNs: UInt64 = 0) {
        records += 1
        if nowNs >= lastEvictionNs &+ Self.evictionIntervalNs { evictIdle(nowNs: nowNs) }
        if r.kind == "loss" {
            addLoss(r, nowNs: nowNs)
            return
        }
        let role = Self.roles.contains(r.role) ? r.role : Self.unknown
        let podKey = boundedPodKey(PodKey(namespace: Self.name(r.srcNamespace), pod: Self.name(r.srcPod)))
        var pod = pods[podKey] ?? PodSeries()
        var edgeBytes: UInt64 = 0
        var requests: UInt64 = 0
        switch r.applicationProtocol {
        case "tcp" where r.kind == "tcp":
            pod.tcpTxBytes += r.tcpTxBytes
            pod.tcpRxBytes += r.tcpRxBytes
            pod.tcpRetransmits += r.tcpRetransmit
            pod.tcpDrops += r.tcpDrop
            pod.tcpTLP += r.tcpTLP
            edgeBytes = r.tcpTxBytes + r.tcpRxBytes
        case "udp" where r.kind == "udp":
            pod.udpTxBytes += r.udpTxBytes
            pod.udpRxBytes += r.udpRxBytes
            edgeBytes = r.udpTxBytes + r.udpRxBytes
        // Exemplars are also counted in their aggregate (whose count the series take).
        case "http" where r.kind == "http" && r.exemplar.isEmpty, "http" where r.kind == "http_aggregate":
            guard let code = r.httpStatusCode else { break }
            requests = r.kind == "http" ? 1 : r.count ?? 0
            pod.httpRequests[Outcome(role: role, value: Self.statusClass(code)), default: 0] += requests
            if let d = r.httpDuration {
                pod.httpDuration[role, default: DurationHistogram()].observe(ns: d)
            } else if let sum = r.httpDurationSum {
                pod.httpDuration[role, default: DurationHistogram()].observe(count: requests, sumNs: sum)
            }
        case "dns" where r.kind == "dns" && r.exemplar.isEmpty, "dns" where r.kind == "dns_aggregate":
            requests = r.kind == "dns" ? 1 : r.count ?? 0
            let rcode = Self.rcodes.contains(r.dnsResponseCode) ? r.dnsResponseCode : Self.other
            pod.dnsRequests[Outcome(role: role, value: rcode), default: 0] += requests
            if let d = r.dnsDuration {
                pod.dnsDuration[role, default: DurationHistogram()].observe(ns: d)
            } else if let sum = r.dnsDurationSum {
                pod.dnsDuration[role, default: DurationHistogram()].observe(count: requests, sumNs: sum)
            }
        default:
            return  // loss, latency, exemplars, anomalies: no per-pod or edge series
        }
        pods[podKey] = pod
        podSeen[podKey] = nowNs
        guard requests > 0 || edgeBytes > 0 else { return }
        let edgeKey = boundedEdgeKey(Self.edge(r, role: role))
        edges[edgeKey, default: EdgeSeries()].requests += requests
        edges[edgeKey, default: EdgeSeries()].bytes += edgeBytes
        edgeSeen[edgeKey] = nowNs
    }

    /// An agent's loss report: `count` records lost for `reason` in its interval.
    private mutating func addLoss(_ r: RecordView, nowNs: UInt64) {
        var key = LossKey(node: Self.name(r.node), reason: r.lossReason.isEmpty ? Self.unknown : r.lossReason)
        if losses[key] == nil && losses.count >= limits.maxLossKeys { key = LossKey(node: Self.other, reason: Self.other) }
        losses[key, default: 0] += r.lossCount
        lossSeen[key] = nowNs
    }

    /// Forgets the keys idle for longer than the grace period.
    mutating func evictIdle(nowNs: UInt64) {
        lastEvictionNs = nowNs
        guard limits.idleGraceNs > 0, nowNs > limits.idleGraceNs else { return }
        let cutoff = nowNs - limits.idleGraceNs
        for (key, seen) in podSeen where seen < cutoff {
            pods[key] = nil
            podSeen[key] = nil
            evictedKeys.pods += 1
        }
        for (key, seen) in edgeSeen where seen < cutoff {
            edges[key] = nil
            edgeSeen[key] = nil
            evictedKeys.edges += 1
        }
        for (key, seen) in lossSeen where seen < cutoff {
            losses[key] = nil
            lossSeen[key] = nil
            evictedKeys.losses += 1
        }
    }

    private static func edge(_ r: RecordView, role: String) -> EdgeKey {
        let local = (name(r.srcNamespace), name(r.srcPod))
        let remote = (name(r.dstNamespace), name(r.dstPod))
        if role == "server" {
            return EdgeKey(reporter: role, srcNamespace: remote.0, srcPod: remote.1, dstNamespace: local.0,
                           dstPod: local.1, dstService: unknown)
        }
        return EdgeKey(reporter: role, srcNamespace: local.0, srcPod: local.1, dstNamespace: remote.0,
                       dstPod: remote.1, dstService: name(r.dstService))
    }

    static let otherPod = PodKey(namespace: other, pod: other)
    static let otherEdge = EdgeKey(reporter: other, srcNamespace: other, srcPod: other, dstNamespace: other, dstPod: other,
                                   dstService: other)

    /// The "other" key takes no slot of its own: once idle keys are gone, new ones get theirs.
    private mutating func boundedPodKey(_ key: PodKey) -> PodKey {
        if pods[key] != nil || pods.count - (pods[Self.otherPod] == nil ? 0 : 1) < limits.maxPods { return key }
        overflowRecords.pods += 1
        return Self.otherPod
    }

    private mutating func boundedEdgeKey(_ key: EdgeKey) -> EdgeKey {
        if edges[key] != nil || edges.count - (edges[Self.otherEdge] == nil ? 0 : 1) < limits.maxEdges { return key }
        overflowRecords.edges += 1
        return Self.otherEdge
    }

    private static func name(_ s: String) -> String { s.isEmpty ? unknown : s }

    static func statusClass(_ code: UInt64) -> String { (1...5).contains(code / 100) ? "\(code / 100)xx" : other }
}
