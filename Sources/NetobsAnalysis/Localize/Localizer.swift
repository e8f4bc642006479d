/// Ranks pods after a change point and drills into the top one.
///
/// 1. Each pod's deviation: the largest robust deviation (`Deviation`) of its pod-level series
///    between the `baseline` window before the change point and the window after it (BARO).
/// 2. Network signals localize by themselves: a faulty pod moves the retransmits, drops, RTT or
///    connection errors of every connection it is on and of few others. When connection edges
///    moved, each pod's deviation is weighted by how well it explains them: the share of its
///    edges that moved times the share of moved edges it is on.
/// 3. Ties go to the callee: L7 latency and errors travel up the call graph (a slow carts
///    slows front-end), so a caller ranked above one of its callees gives way when the callee
///    is nearly as deviant and explains the network signals at least as well (or when calls
///    to it fail at the transport, or when the caller is a pure client).
/// 4. The top pod's URIs and DNS domains are ranked the same way (for a pod that refuses
///    connections, the URIs failing at its callers).
/// 5. The head of the ranking gets the evidence that tells fault kinds apart (`evidence`): answers
///    it stopped serving, restarts, how erratic its own answer time became, clients cut off.
///
/// `Ranker.baro` and `Ranker.nsigma` are the baselines `netobs eval` scores beside this one on the
/// same incidents: multi-source ranking by the largest robust (BARO's median/IQR) or classic
/// (mean/σ) deviation of any pod series, with none of 2-5 above.
public struct Localizer: Sendable {
    /// How pods are ranked.
    public enum Ranker: String, Sendable, Codable, CaseIterable {
        /// This analysis: robust deviation weighted by the network graph, callee preference,
        /// lookup faults named after the failing name, kind evidence.
        case netobs
        /// BARO's RobustScorer over every pod series (median and IQR of the window before the
        /// change point, the largest score after it), no graph, no tie-breaks.
        case baro
        /// N-sigma: the same with the mean and standard deviation.
        case nsigma
    }

    public struct Config: Sendable, Codable, Equatable {
        public var baselineIntervals = 60
        /// After-window cap, so that a long incident is judged on its start.
        public var maxAfterIntervals = 30
        /// An edge moved when one of its network series deviates this much.
        public var edgeThreshold = 5.0
        /// A callee within this ratio of its caller's score takes its place.
        public var tieRatio = 0.5
        /// A drill-down series is evidence from this deviation on.
        public var evidenceThreshold = 3.0
        public init() {}
    }

    public struct PodScore: Sendable, Equatable {
        public var pod: String
        public var score: Double
        public var deviation: Double
        public var graphFactor: Double
        public var metrics: [Metric: Double]
        /// Filled for the head of the ranking.
        public var evidence = KindEvidence()

        public init(pod: String, score: Double, deviation: Double, graphFactor: Double, metrics: [Metric: Double],
                    evidence: KindEvidence = KindEvidence()) {
            self.pod = pod
            self.score = score
            self.deviation = deviation
            self.graphFactor = graphFactor
            self.metrics = metrics
            self.evidence = evidence
        }

        /// The classifier's features.
        public var features: [Double] { FaultClassifier.features(metrics, evidence: evidence) }
    }

    public struct Result: Sendable {
        public var ranking: [PodScore]
        /// `pod` serves the URI: the top pod, or for a pod that refuses connections its callers.
        public var uris: [(uri: String, pod: String, metric: Metric, deviation: Double)]
        public var domains: [(domain: String, metric: Metric, deviation: Double)]
        public var movedEdges: [(a: String, b: String, metric: Metric, deviation: Double)]
    }

    public static let podMetrics: [Metric] = [.httpErrors, .httpLatencyP50, .httpLatencyP99, .turnLatencyP99,
                                               .retransmits, .drops, .rtt, .connErrors, .dnsFailures, .dnsLatencyP99]
    public static let edgeMetrics: [Metric] = [.retransmits, .drops, .rtt, .connErrors]
    /// Deviations read for the head of the ranking only (kind evidence).
    public static let evidenceMetrics: [Metric] = [.httpServerLatencyP50, .httpClientLatencyP50, .connRefused, .connTimeouts]
    /// Pods of the ranking's head that get evidence.
    static let head = 6

    public var config: Config
    public init(config: Config = Config()) { self.config = config }

    /// - Parameters:
    ///   - keys: every series the store holds.
    ///   - read: raw values of a series over `from..<to`.
    ///   - calls: observed (client, server) pairs.
    ///   - evidenceEnd: the newest interval with data (a restart shows once the pod is back,
    ///     which may be after the incident's last alarm); default `end`.
    public func localize(changePoint: Int, end: Int, keys: some Sequence<SeriesKey>,
                         read: (SeriesKey, Int, Int) -> [Float], calls: Set<CallEdge>,
                         evidenceEnd: Int? = nil, ranker: Ranker = .netobs, candidates: Set<String>? = nil) -> Result {
        let b0 = changePoint - config.baselineIntervals
        let a1 = min(end + 1, changePoint + config.maxAfterIntervals)
        func deviation(_ key: SeriesKey) -> Double {
            Deviation.score(before: read(key, b0, changePoint), after: read(key, changePoint, a1), metric: key.metric)
        }
        if ranker != .netobs {
            return baseline(ranker, changePoint: changePoint, keys: keys, read: { read($0, $1, $2) }, b0: b0, a1: a1,
                            candidates: candidates)
        }

        var pods = Set<String>()
        var edges: [Pair: Double] = [:]
        var edgeMetric: [Pair: Metric] = [:]
        var uriKeys: [SeriesKey] = [], domainKeys: [SeriesKey] = []
        for key in keys {
            switch key.scope {
            case .pod where candidates?.contains(key.a) ?? true: pods.insert(key.a)
            case .edge where Self.edgeMetrics.contains(key.metric):
                let pair = Pair(a: key.a, b: key.b)
                let d = deviation(key)
                if d > edges[pair] ?? -1 {
                    edges[pair] = d
                    edgeMetric[pair] = key.metric
                }
            case .uri: uriKeys.append(key)
            case .domain: domainKeys.append(key)
            default: break
            }
        }
        // Edges active in the windows only (expired peers do not dilute the shares).
        let moved = edges.filter { $0.value >= config.edgeThreshold }
        let totalMoved = Double(moved.count)
        var edgesOf: [String: (all: Int, moved: Int)] = [:]
        for (pair, dev) in edges {
            for pod in [pair.a, pair.b] {
                edgesOf[pod, default: (0, 0)].all += 1
                if dev >= config.edgeThreshold { edgesOf[pod, default: (0, 0)].moved += 1 }
            }
        }

        var ranking: [PodScore] = pods.map { pod in
            var metrics: [Metric: Double] = [:]
            for m in Self.podMetrics { metrics[m] = deviation(.pod(pod, m)) }
            let dev = metrics.values.max() ?? 0
            var factor = 1.0
            if totalMoved > 0 {
                let e = edgesOf[pod] ?? (0, 0)
                let coverage = e.all > 0 ? Double(e.moved) / Double(e.all) : 0
                factor = coverage * Double(e.moved) / totalMoved
            }
            let weight = totalMoved > 0 ? 0.2 + 0.8 * factor : 1
            return PodScore(pod: pod, score: dev * weight, deviation: dev, graphFactor: factor, metrics: metrics)
        }
        ranking.sort { $0.score != $1.score ? $0.score > $1.score : $0.pod < $1.pod }
        for i in 0..<min(Self.head, ranking.count) {
            for m in Self.evidenceMetrics { ranking[i].metrics[m] = deviation(.pod(ranking[i].pod, m)) }
            ranking[i].evidence = evidence(pod: ranking[i].pod, changePoint: changePoint, end: a1 - 1,
                                           evidenceEnd: max(evidenceEnd ?? end, end), keys: keys, read: read)
        }
        preferCallees(&ranking, calls: calls, moved: Set(moved.keys))
        preferHubOfMovedEdges(&ranking, moved: Set(moved.keys))

        var uris: [(uri: String, pod: String, metric: Metric, deviation: Double)] = []
        var domains: [(String, Metric, Double)] = []
        if let top = ranking.first {
            // Calls a pod refuses never reach it: they fail at its callers, under their URIs.
            let callers = refusesCalls(top) ? Set(calls.filter { $0.server == top.pod }.map(\.client)) : []
            for key in uriKeys where key.metric != .httpRequests {
                guard callers.isEmpty ? key.a == top.pod : callers.contains(key.a) && key.metric == .httpErrors else { continue }
                let d = deviation(key)
                if d >= config.evidenceThreshold { uris.append((key.b, key.a, key.metric, d)) }
            }
            for key in domainKeys where key.a == top.pod && key.metric != .dnsQueries {
                let d = deviation(key)
                if d >= config.evidenceThreshold { domains.append((key.b, key.metric, d)) }
            }
        }
        uris.sort { $0.deviation > $1.deviation }
        domains.sort { $0.2 > $1.2 }
        namePodOfFailingDomain(&ranking, domains: domains, pods: pods)
        let movedList = moved.map { ($0.key.a, $0.key.b, edgeMetric[$0.key] ?? .retransmits, $0.value) }
        return Result(ranking: ranking, uris: uris,
                      domains: domains.map { (domain: $0.0, metric: $0.1, deviation: $0.2) },
                      movedEdges: movedList.sorted { $0.3 > $1.3 }.map { (a: $0.0, b: $0.1, metric: $0.2, deviation: $0.3) })
    }

    /// Moves a callee ahead of its caller when nearly as deviant, or when calls to it fail at
    /// the transport (bounded passes, no cycles).
    ///   - moved: the connections (pod pairs) whose network series moved; when every one the
    ///     caller is on is with a callee that refuses its calls, the failed connections are the
    ///     callee's (the server end owns connection errors), however many quiet connections
    ///     either pod has besides (the graph factor counts those).
    func preferCallees(_ ranking: inout [PodScore], calls: Set<CallEdge>, moved: Set<Pair> = []) {
        func onlyWith(_ caller: String, _ callee: String) -> Bool {
            let mine = moved.filter { $0.a == caller || $0.b == caller }
            return !mine.isEmpty && mine.allSatisfy { $0.a == callee || $0.b == callee }
        }
        let head = min(ranking.count, 6)
        for _ in 0..<head {
            var changed = false
            outer: for i in 0..<head {
                for j in (i + 1)..<max(i + 1, head) {
                    let caller = ranking[i], callee = ranking[j]
                    // A pure client (called by no one: a load generator, an outside user) on a
                    // moved connection with its server: the connection is the server's, whatever
                    // share of the client's few connections it is.
                    let pureClient = !calls.contains { $0.server == caller.pod }
                    if calls.contains(CallEdge(client: caller.pod, server: callee.pod)),
                       !calls.contains(CallEdge(client: callee.pod, server: caller.pod)),
                       callee.score > 0, callee.score >= config.tieRatio * caller.score || refusesCalls(callee) || pureClient,
                       callee.graphFactor >= caller.graphFactor - 1e-9 || pureClient
                        || (refusesCalls(callee) && onlyWith(caller.pod, callee.pod)) {
                        ranking.remove(at: j)
                        ranking.insert(callee, at: i)
                        changed = true
                        break outer
                    }
                }
            }
            if !changed { break }
        }
    }

    /// Connections to the pod fail (connection errors belong to the server end) in a way that
    /// names the fault by itself (refused or reset, down, or cut off): its callers' errors are
    /// those failed calls, however many more of them the callers count (each failed call is an
    /// error at every hop above, seen from both ends of each).
    func refusesCalls(_ pod: PodScore) -> Bool {
        let kind = FaultClassifier.unambiguous(pod.features)
        return kind == FaultKind.reset.rawValue || kind == FaultKind.kill.rawValue || kind == FaultKind.partition.rawValue
    }

    /// The evidence that tells kinds apart, for `pod` after `changePoint` (to `end`; restarts to
    /// `evidenceEnd`), against the baseline window before it.
    public func evidence(pod: String, changePoint: Int, end: Int, evidenceEnd: Int, keys: some Sequence<SeriesKey>,
                         read: (SeriesKey, Int, Int) -> [Float]) -> KindEvidence {
        let b0 = changePoint - config.baselineIntervals
        func counts(_ key: SeriesKey, _ from: Int, _ to: Int) -> [Double] {
            read(key, from, to).map { $0.isNaN ? 0 : Double($0) }
        }
        func mean(_ v: [Double]) -> Double { v.isEmpty ? 0 : v.reduce(0, +) / Double(v.count) }
        var e = KindEvidence()
        // Served answers: only when the pod served a few per interval before.
        let servedBefore = mean(counts(.pod(pod, .httpServed), b0, changePoint))
        if servedBefore >= 0.5 {
            e.servedDrop = max(0, 1 - mean(counts(.pod(pod, .httpServed), changePoint, end + 1)) / servedBefore)
        }
        e.restarts = counts(.pod(pod, .restarts), changePoint, evidenceEnd + 1).reduce(0, +)
        // Its own answer time after the change: erratic or steady, once it rose.
        let own = read(.pod(pod, .httpServerLatencyP50), changePoint, end + 1).filter { !$0.isNaN }.map(Double.init)
        let ownBefore = read(.pod(pod, .httpServerLatencyP50), b0, changePoint).filter { !$0.isNaN }.map(Double.init)
        if own.count >= 5, ownBefore.count >= 5 {
            let level = Deviation.median(own), base = Deviation.median(ownBefore)
            if level > 2 * base, level > base + 2 * DetectorConfig.absoluteFloor(.httpServerLatencyP50) {
                // The spread of the added time (a steady wait adds the same to every answer).
                let added = own.map { $0 - base }
                let m = Deviation.median(added)
                e.jitter = Deviation.median(added.map { abs($0 - m) }) / max(m, 1)
            }
        }
        // Clients: exchanges that stopped, exchanges that went on.
        for key in keys where key.scope == .edge && key.metric == .httpServed && (key.a == pod || key.b == pod) {
            let before = mean(counts(key, b0, changePoint))
            guard before >= 0.3 else { continue }
            // Dead: no exchange in most intervals after the change (the median; the fault's end
            // may be inside the window).
            let after = Deviation.median(counts(key, changePoint, end + 1))
            if after <= 0.1 * before {
                e.deadEdges += 1
                // Unanswered: connects that timed out, or segments (SYNs) sent again with no exchange.
                for (metric, path) in [(Metric.connRefused, \KindEvidence.deadEdgeRefused), (.connTimeouts, \KindEvidence.deadEdgeTimeouts),
                                       (.retransmits, \KindEvidence.deadEdgeTimeouts)] {
                    let edge = SeriesKey(.edge, key.a, key.b, metric)
                    let d = Deviation.score(before: read(edge, b0, changePoint), after: read(edge, changePoint, end + 1), metric: metric)
                    e[keyPath: path] = max(e[keyPath: path], d)
                }
            } else {
                e.liveEdges += 1
                let edge = SeriesKey(.edge, key.a, key.b, .retransmits)
                e.liveEdgeRetransmits = max(e.liveEdgeRetransmits, Deviation.score(before: read(edge, b0, changePoint),
                                                                                   after: read(edge, changePoint, end + 1), metric: .retransmits))
            }
        }
        return e
    }

    /// The baselines: every pod ranked by its largest score of any series after the change point.
    func baseline(_ ranker: Ranker, changePoint: Int, keys: some Sequence<SeriesKey>,
                  read: (SeriesKey, Int, Int) -> [Float], b0: Int, a1: Int, candidates: Set<String>?) -> Result {
        var pods = Set<String>()
        for key in keys where key.scope == .pod && candidates?.contains(key.a) ?? true { pods.insert(key.a) }
        var ranking: [PodScore] = pods.map { pod in
            var metrics: [Metric: Double] = [:]
            for m in Self.podMetrics {
                let key = SeriesKey.pod(pod, m)
                let b = Deviation.clean(read(key, b0, changePoint), isCount: m.isCount)
                let a = Deviation.clean(read(key, changePoint, a1), isCount: m.isCount)
                metrics[m] = ranker == .baro ? Deviation.robustScore(before: b, after: a) : Deviation.sigmaScore(before: b, after: a)
            }
            let dev = metrics.values.max() ?? 0
            return PodScore(pod: pod, score: dev, deviation: dev, graphFactor: 1, metrics: metrics)
        }
        ranking.sort { $0.score != $1.score ? $0.score > $1.score : $0.pod < $1.pod }
        return Result(ranking: ranking, uris: [], domains: [], movedEdges: [])
    }

    /// A lookup fault belongs to the name that fails, not to the pod asking: when the top pod's
    /// strongest signal is DNS failures and its most failing domain names a known pod (its first
    /// label is the pod's name or the name's prefix before "-"), that pod goes first, carrying
    /// the querier's deviations (the querier stays second, and its domains stay the evidence).
    func namePodOfFailingDomain(_ ranking: inout [PodScore], domains: [(String, Metric, Double)], pods: Set<String>) {
        // The failing name's own deviation counts: the querier's total is diluted by the lookups
        // that always fail (search-path expansions answer NXDOMAIN all the time).
        guard let querier = ranking.first, let failing = domains.first(where: { $0.1 == .dnsFailures }),
              case let failures = max(querier.metrics[.dnsFailures] ?? 0, failing.2),
              failures >= config.edgeThreshold, failures >= 0.25 * (querier.metrics.values.max() ?? 0),
              case let domain = failing.0,
              let target = Self.pod(named: domain, among: pods, near: querier.pod), target != querier.pod
        else { return }
        ranking.removeAll { $0.pod == target }
        var named = querier
        named.pod = target
        ranking.insert(named, at: 0)
    }

    /// The pod a DNS name refers to: `name`, `name.namespace…` or a short name; the querier's
    /// namespace breaks ties.
    static func pod(named domain: String, among pods: Set<String>, near querier: String) -> String? {
        let labels = domain.lowercased().split(separator: ".").map(String.init)
        guard let name = labels.first, !name.isEmpty else { return nil }
        let querierNamespace = PodName.split(querier).namespace
        let candidates = pods.filter { pod in
            let p = PodName.split(pod)
            return p.name == name || p.name.hasPrefix(name + "-")
        }
        // Best first: the namespace the name spells, the exact name, the querier's namespace.
        func rank(_ pod: String) -> [Bool] {
            let p = PodName.split(pod)
            return [labels.count > 1 && p.namespace == labels[1], p.name == name, p.namespace == querierNamespace]
        }
        return candidates.min { a, b in
            let ra = rank(a), rb = rank(b)
            return ra != rb ? ra.lexicographicallyPrecedes(rb) { $0 && !$1 } : a < b
        }
    }

    struct Pair: Hashable { var a: String, b: String }
}

/// A client → server pair seen in HTTP or request/response records.
public struct CallEdge: Hashable, Sendable, Codable {
    public var client: String
    public var server: String
    public init(client: String, server: String) {
        self.client = client
        self.server = server
    }
}
