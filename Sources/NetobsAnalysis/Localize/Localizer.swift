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
///    is nearly as deviant and explains the network signals at least as well.
/// 4. The top pod's URIs and DNS domains are ranked the same way (for a pod that refuses
///    connections, the URIs failing at its callers).
public struct Localizer: Sendable {
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

    public var config: Config
    public init(config: Config = Config()) { self.config = config }

    /// - Parameters:
    ///   - keys: every series the store holds.
    ///   - read: raw values of a series over `from..<to`.
    ///   - calls: observed (client, server) pairs.
    public func localize(changePoint: Int, end: Int, keys: some Sequence<SeriesKey>,
                         read: (SeriesKey, Int, Int) -> [Float], calls: Set<CallEdge>) -> Result {
        let b0 = changePoint - config.baselineIntervals
        let a1 = min(end + 1, changePoint + config.maxAfterIntervals)
        func deviation(_ key: SeriesKey) -> Double {
            Deviation.score(before: read(key, b0, changePoint), after: read(key, changePoint, a1), metric: key.metric)
        }

        var pods = Set<String>()
        var edges: [Pair: Double] = [:]
        var edgeMetric: [Pair: Metric] = [:]
        var uriKeys: [SeriesKey] = [], domainKeys: [SeriesKey] = []
        for key in keys {
            switch key.scope {
            case .pod: pods.insert(key.a)
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
        preferCallees(&ranking, calls: calls)

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
    func preferCallees(_ ranking: inout [PodScore], calls: Set<CallEdge>) {
        let head = min(ranking.count, 6)
        for _ in 0..<head {
            var changed = false
            outer: for i in 0..<head {
                for j in (i + 1)..<max(i + 1, head) {
                    let caller = ranking[i], callee = ranking[j]
                    if calls.contains(CallEdge(client: caller.pod, server: callee.pod)),
                       !calls.contains(CallEdge(client: callee.pod, server: caller.pod)),
                       callee.score > 0, callee.score >= config.tieRatio * caller.score || refusesCalls(callee),
                       callee.graphFactor >= caller.graphFactor - 1e-9 {
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
    /// names a reset fault by itself: its callers' errors are those failed calls, however many
    /// more of them the callers count (each failed call is an error at every hop above, seen
    /// from both ends of each).
    func refusesCalls(_ pod: PodScore) -> Bool {
        FaultClassifier.unambiguous(FaultClassifier.features(pod.metrics)) == FaultKind.reset.rawValue
    }

    /// A lookup fault belongs to the name that fails, not to the pod asking: when the top pod's
    /// strongest signal is DNS failures and its most failing domain names a known pod (its first
    /// label is the pod's name or the name's prefix before "-"), that pod goes first, carrying
    /// the querier's deviations (the querier stays second, and its domains stay the evidence).
    func namePodOfFailingDomain(_ ranking: inout [PodScore], domains: [(String, Metric, Double)], pods: Set<String>) {
        guard let querier = ranking.first, let failures = querier.metrics[.dnsFailures],
              failures >= config.edgeThreshold, failures >= (querier.metrics.values.max() ?? 0),
              let domain = domains.first(where: { $0.1 == .dnsFailures })?.0,
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
