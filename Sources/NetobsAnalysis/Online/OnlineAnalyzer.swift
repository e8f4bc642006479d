import Foundation

/// The analysis as a stream: records in (`ingest`), anomalies out (`tick`). Records roll up per
/// interval into the series store; when an interval closes, the pod-level series go through
/// their detectors; an incident opens when a series alarms (reported `open`, localized on the
/// data so far) and closes `closeGap` quiet intervals later (reported `closed`, localized on
/// the whole window, or `dismissed` when it was a blip). The analyzer never sees labels.
public struct OnlineAnalyzer: Sendable {
    public struct Stats: Sendable, Equatable {
        public var records = 0
        /// Records for an interval already closed (counted, not used).
        public var late = 0
        /// Records of kinds that move no series (udp, loss, ...).
        public var unused = 0
        public var intervals = 0
        /// Incidents reported `open` and later withdrawn as blips (alerts an operator saw).
        public var dismissed = 0
        /// Intervals in which the node itself stalled (see `stalled`).
        public var nodeStalls = 0
    }

    /// A series whose alarm is on this interval.
    struct Alarm {
        var key: SeriesKey
        /// First anomalous interval of its run.
        var runStart: Int
        var score: Double
        /// This interval itself is anomalous (not only held by hysteresis).
        var anomalous: Bool
    }

    struct Incident: Sendable {
        var id: Int
        var changePoint: Int
        var detected: Int
        var lastAlarm: Int
        var alarms: [SeriesKey: Double]
        var pods: Set<String>
        var anchor: String
        var anchorAlarm: Int
        /// Intervals, from its opening on, in which a member was anomalous.
        var anomalousIntervals = 1
        /// Opened by a node-wide stall: withdrawn.
        var stalled = false
        /// Anchors of the incidents open at the same time as this one, at any point.
        var concurrent: Set<String> = []
    }

    public let model: AnalysisModel
    public private(set) var store: SeriesStore
    public private(set) var stats = Stats()
    private var pending: [Int: IntervalRollup] = [:]
    /// Intervals below this are closed.
    private var closedBelow: Int?
    private var detectors: [SeriesDetector?] = []
    private var calls: [CallEdge: Int] = [:]
    private var dropReasons: [Int: [String: [String: Double]]] = [:]
    private var incidents: [Incident] = []
    private var recentlyClosed: [(pods: Set<String>, end: Int)] = []
    private var nextIncident = 0
    /// Pods whose answer time was anomalous, and whether any network or error series was, per
    /// recent interval (node stalls).
    private var slowPods: [Int: Set<String>] = [:]
    private var networkMoved: [Int: Bool] = [:]
    static let stallWindow = 5
    static let latencyMetrics: Set<Metric> = [.httpLatencyP50, .httpLatencyP99, .turnLatencyP99, .httpServerLatencyP50, .dnsLatencyP99]
    static let networkMetrics: Set<Metric> = [.retransmits, .drops, .connErrors, .dnsFailures, .httpErrors]
    /// The last interval of the latest node stall.
    private var lastStall: Int?
    private let localizer: Localizer
    /// NETOBS_ANALYSIS_TRACE=1: every pod series scoring 3 or more, per interval, on stderr.
    static let tracing = ProcessInfo.processInfo.environment["NETOBS_ANALYSIS_TRACE"] != nil

    /// Processes seen per pod (pids of the records it reports), for `restarts`.
    private var processes: [String: (pids: Set<Int32>, first: Int)] = [:]
    /// A pod's processes seen in its first intervals are its own; later ones are restarts.
    static let restartWarmup = 30
    static let maxProcessesTracked = 32
    /// Rankers scored beside this analysis on the same incidents (`Anomaly.alternatives`).
    public let baselines: [Localizer.Ranker]

    public init(model: AnalysisModel = AnalysisModel(), baselines: [Localizer.Ranker] = []) {
        self.model = model
        store = SeriesStore(retention: model.retention)
        localizer = Localizer(config: model.localizer)
        self.baselines = baselines.filter { $0 != .netobs }
    }

    public var interval: UInt64 { model.intervalNs }

    /// The (client, server) pairs seen in the retained window.
    public var callEdges: Set<CallEdge> { Set(calls.keys) }

    public mutating func ingest(records: [FlowRecord]) {
        for r in records { ingest(r) }
    }

    public mutating func ingest(_ r: FlowRecord) {
        stats.records += 1
        let k = Int(r.tsNs / model.intervalNs)
        if let closed = closedBelow, k < closed {
            stats.late += 1
            return
        }
        var rollup = pending[k] ?? IntervalRollup()
        var used = false
        let call = Attribution.contributions(of: r) { key, value, weight in
            rollup.add(key, value: value, weight: weight)
            used = true
        }
        if r.pid > 0, let pod = r.srcPod, r.kind == "tcp" || r.kind == "tcp_latency" {
            if var seen = processes[pod] {
                if !seen.pids.contains(r.pid), seen.pids.count < Self.maxProcessesTracked {
                    if k >= seen.first + Self.restartWarmup { rollup.add(.pod(pod, .restarts), value: 1, weight: 1) }
                    seen.pids.insert(r.pid)
                    processes[pod] = seen
                }
            } else {
                processes[pod] = ([r.pid], k)
            }
        }
        pending[k] = rollup
        if !used { stats.unused += 1 }
        if let call { calls[CallEdge(client: call.0, server: call.1)] = k }
        if r.tcpDrop > 0, !r.tcpDropReasons.isEmpty {
            for pod in [r.srcPod, r.dstPod].compactMap({ $0 }) {
                for reason in r.tcpDropReasons { dropReasons[k, default: [:]][pod, default: [:]][reason, default: 0] += 1 }
            }
        }
    }

    /// Closes every interval that ended at least `graceNs` before `nowNs` and returns the
    /// anomalies raised or closed by them.
    public mutating func tick(nowNs: UInt64) -> [Anomaly] {
        let limit = nowNs >= model.graceNs ? Int((nowNs - model.graceNs) / model.intervalNs) : 0
        return close(below: limit)
    }

    /// Closes everything ingested so far (end of a recorded run), including open incidents.
    public mutating func finish() -> [Anomaly] {
        guard let last = pending.keys.max() else { return closeIncident() }
        var out = close(below: last + 1)
        out += closeIncident()
        return out
    }

    /// Closes intervals below `limit`, in order; pending intervals only (a silent interval has no series values).
    public mutating func close(below limit: Int) -> [Anomaly] {
        var out: [Anomaly] = []
        let ready = pending.keys.filter { $0 < limit }.sorted()
        for k in ready {
            let rollup = pending.removeValue(forKey: k)!
            if let next = closedBelow, k < next { continue }
            // Quiet intervals between two closed ones still age an open incident.
            if let prev = closedBelow { for quiet in prev..<k { out += advanceIncident(interval: quiet, alarms: []) } }
            out += process(interval: k, rollup: rollup)
            closedBelow = k + 1
        }
        if let prev = closedBelow, limit > prev, pending.isEmpty {
            for quiet in prev..<min(limit, prev + model.closeGap + 1) { out += advanceIncident(interval: quiet, alarms: []) }
            closedBelow = limit
        }
        return out
    }

    private mutating func process(interval k: Int, rollup: IntervalRollup) -> [Anomaly] {
        stats.intervals += 1
        var alarms: [Alarm] = [], firstAnomalous: [Alarm] = []
        for (key, value) in rollup.values() {
            let id = store.id(for: key)
            store.append(id: id, interval: k, value: Float(value))
            guard key.scope == .pod, key.metric.triggers || key.metric == .httpServerLatencyP50 else { continue }
            if id >= detectors.count { detectors += [SeriesDetector?](repeating: nil, count: id - detectors.count + 1) }
            if detectors[id] == nil { detectors[id] = SeriesDetector(metric: key.metric, config: model.detector) }
            let verdict = detectors[id]!.update(value, interval: k, config: model.detector, learning: incidents.isEmpty)
            if Self.tracing, verdict.score >= 3 {
                FileHandle.standardError.write(Data("trace \(k) \(key) z=\(Self.format(verdict.score)) \(verdict.anomalous ? "A" : "-")\(verdict.alarm ? "L" : "-")\n".utf8))
            }
            if verdict.anomalous, Self.latencyMetrics.contains(key.metric) { slowPods[k, default: []].insert(key.a) }
            if verdict.anomalous, Self.networkMetrics.contains(key.metric) { networkMoved[k] = true }
            if key.metric == .httpServerLatencyP50 { continue }
            if verdict.alarm { alarms.append(Alarm(key: key, runStart: verdict.runStart ?? k, score: verdict.score, anomalous: verdict.anomalous)) }
            else if verdict.anomalous { firstAnomalous.append(Alarm(key: key, runStart: k, score: verdict.score, anomalous: true)) }
        }
        let graph = CallGraph(calls.keys)
        if stalled(at: k, graph) {
            stats.nodeStalls += 1
            lastStall = k
            for i in incidents.indices where incidents[i].detected > k - Self.stallWindow { incidents[i].stalled = true }
        }
        alarms += corroborated(firstAnomalous.filter { alarm in !incidents.contains { related(alarm.key.a, $0, graph) } })
        if k % 60 == 0 { expire(before: k) }
        return advanceIncident(interval: k, alarms: alarms)
    }

    /// The node itself stalled (a noisy neighbour took the CPU, the host paused): pods that do not
    /// call one another answer slowly at once, three or more within `stallWindow` intervals, and
    /// nothing moved in the network or the errors. No fault of one pod does that (its symptoms
    /// travel to its callers only; network faults move connections, refusals errors), so no
    /// incident opens from it; incidents opened in it are withdrawn.
    private mutating func stalled(at k: Int, _ graph: CallGraph) -> Bool {
        slowPods = slowPods.filter { $0.key > k - Self.stallWindow }
        networkMoved = networkMoved.filter { $0.key > k - Self.stallWindow }
        guard !networkMoved.values.contains(true) else { return false }
        let slow = slowPods.values.reduce(into: Set<String>()) { $0.formUnion($1) }
        guard slow.count >= 3 else { return false }
        // Roots: slow pods whose slowness no other slow pod explains (they call none of them).
        let roots = slow.filter { pod in !graph.isAncestor(pod, ofAny: slow.subtracting([pod])) }
        return roots.count >= 3
    }

    /// Series anomalous this interval but not (yet) alarming that may open an incident at once: a
    /// fault moves several series of several pods together (the faulty pod and its callers), so
    /// enough strong ones in one interval need no second interval of hysteresis. Noise moves one.
    private func corroborated(_ candidates: [Alarm]) -> [Alarm] {
        let strong = candidates.filter { $0.score >= model.incidentScore ?? AnalysisModel.defaultIncidentScore }
        let (series, pods) = (model.corroboratingSeries ?? AnalysisModel.defaultCorroboratingSeries,
                              model.corroboratingPods ?? AnalysisModel.defaultCorroboratingPods)
        guard series > 0, strong.count >= series, Set(strong.map(\.key.a)).count >= pods else { return [] }
        return strong
    }

    /// An incident is its pods: those alarming strongly in its first `closeGap` intervals; it
    /// lasts while they alarm, and starts where its strong alarms began. A pod alarming only
    /// weakly (a noisy low-rate series) is no member: it would keep a finished fault's incident
    /// open and hide its own later fault inside it. Its anchor is its located pod (or, when that
    /// pod does not alarm itself, e.g. a name that fails to resolve, its strongest alarming pod).
    /// A strong alarm of another pod related to it, once the anchor has been quiet `closeGap`
    /// intervals, is a second fault when localization from that alarm's start names that pod: the
    /// incident ends before it and a new one opens (callers of both faults alarm throughout and
    /// would otherwise merge them).
    ///
    /// Several incidents may be open at once: an alarm goes to the incidents it is related to (a
    /// member, a pod on a call with a member, or a caller of a member, directly or not: symptoms
    /// travel up the call graph); a strong alarm related to none is another fault, and opens its
    /// own incident (two faults at once on pods apart in the graph).
    private mutating func advanceIncident(interval k: Int, alarms: [Alarm]) -> [Anomaly] {
        var out: [Anomaly] = []
        let graph = CallGraph(calls.keys)
        var reopen: [Alarm] = []
        var i = 0
        let anchors = Set(incidents.map(\.anchor))
        while i < incidents.count {
            var current = incidents[i]
            current.concurrent.formUnion(anchors.subtracting([current.anchor]))
            let routed = alarms.filter { related($0.key.a, current, graph) }
            let (anomalies, keep, split) = advance(&current, interval: k, alarms: routed)
            out += anomalies
            reopen += split
            if keep {
                incidents[i] = current
                i += 1
            } else {
                incidents.remove(at: i)
            }
        }
        let unrelated = alarms.filter { alarm in !incidents.contains { related(alarm.key.a, $0, graph) } }
        // A split's newcomers open the next incident, unless they belong to another open one.
        let next = reopen.filter { alarm in !incidents.contains { related(alarm.key.a, $0, graph) } }
        if !next.isEmpty { out += open(interval: k, alarms: next, graph: graph) }
        let rest = unrelated.filter { alarm in !incidents.contains { related(alarm.key.a, $0, graph) } }
        out += open(interval: k, alarms: rest, graph: graph)
        return out
    }

    /// Opens an incident from `alarms` when one is strong.
    private mutating func open(interval k: Int, alarms: [Alarm], graph: CallGraph) -> [Anomaly] {
        if let stall = lastStall, k <= stall + model.closeGap { return [] }
        let strong = model.incidentScore ?? AnalysisModel.defaultIncidentScore
        let strongAlarms = alarms.filter { $0.score >= strong }
        guard let first = strongAlarms.map(\.runStart).min() else { return [] }
        let strongPods = Set(strongAlarms.map(\.key.a))
        // Not before the end of an earlier incident of these pods: alarms still running from it
        // (its callers' hysteresis) would otherwise stretch the new one back over the fault it explained.
        let earlier = recentlyClosed.filter { closed in strongPods.contains { pod in closed.pods.contains(pod) || graph.adjacent(pod, closed.pods) } }
        let start = max(first, (earlier.map(\.end).max() ?? Int.min / 2) + 1, (lastStall ?? Int.min / 2) + 1)
        let members = alarms.filter { strongPods.contains($0.key.a) }
        nextIncident += 1
        var opened = Incident(id: nextIncident, changePoint: start, detected: k, lastAlarm: k, alarms: [:], pods: [], anchor: "",
                              anchorAlarm: k)
        for alarm in members {
            opened.alarms[alarm.key] = alarm.score
            opened.pods.insert(alarm.key.a)
        }
        if Self.tracing {
            FileHandle.standardError.write(Data("trace \(k) incident opens at \(start): \(opened.pods.sorted()); open: \(incidents.map { "\($0.anchor) \($0.pods.sorted())" })\n".utf8))
        }
        let raised = anomaly(opened, end: k, status: "open")
        let located = PodName.join(raised.pod, namespace: raised.namespace) ?? ""
        // Alarms apart from an open incident that localization nonetheless pins on its pod are
        // more of it (its symptoms reached further), not a second fault.
        if let same = incidents.firstIndex(where: { $0.anchor == located }) {
            incidents[same].pods.formUnion(opened.pods)
            return []
        }
        opened.anchor = opened.pods.contains(located) ? located
            : opened.alarms.max { $0.value < $1.value }?.key.a ?? located
        incidents.append(opened)
        return [raised]
    }

    /// One interval of an open incident: (anomalies, still open, alarms that open the next one).
    private mutating func advance(_ open: inout Incident, interval k: Int, alarms: [Alarm]) -> ([Anomaly], Bool, [Alarm]) {
        let strong = model.incidentScore ?? AnalysisModel.defaultIncidentScore
        let joining = k <= open.detected + model.closeGap
        var anomalousNow = false
        for alarm in alarms {
            let key = alarm.key
            if joining, alarm.score >= strong { open.pods.insert(key.a) }
            guard open.pods.contains(key.a) else { continue }
            open.alarms[key] = max(open.alarms[key] ?? 0, alarm.score)
            open.lastAlarm = k
            if key.a == open.anchor { open.anchorAlarm = k }
            anomalousNow = anomalousNow || alarm.anomalous
        }
        if anomalousNow, k > open.detected { open.anomalousIntervals += 1 }
        let members = open.pods
        let newcomers = alarms.filter { !members.contains($0.key.a) && $0.score >= strong }
        if !newcomers.isEmpty, k - open.anchorAlarm >= model.closeGap {
            let start = newcomers.map(\.runStart).min() ?? k
            if let top = localize(from: start, to: k).ranking.first?.pod, newcomers.contains(where: { $0.key.a == top }) {
                open.lastAlarm = max(open.changePoint, min(open.lastAlarm, start - 1))
                // The next incident starts at the newcomers (the callers' alarms began with the first fault).
                return (close(open), false, newcomers)
            }
        }
        guard k - open.lastAlarm >= model.closeGap else { return ([], true, []) }
        return (close(open), false, [])
    }

    /// Whether an alarm of `pod` belongs to `incident`: a member, or a pod its fault reaches from
    /// the incident's core (its anchor, and the members on a connection with the anchor or called
    /// by it): on a connection with the core, or calling it, directly or not. Members that only
    /// call the anchor (its symptoms' way up) are no core: their other callees are not the fault's.
    private func related(_ pod: String, _ incident: Incident, _ graph: CallGraph) -> Bool {
        if incident.pods.contains(pod) || pod == incident.anchor { return true }
        let below = graph.descendants(incident.anchor)
        let core = incident.pods.filter { graph.adjacent($0, [incident.anchor]) || below.contains($0) }.union([incident.anchor])
        return graph.adjacent(pod, core) || graph.isAncestor(pod, ofAny: core)
    }

    private mutating func closeIncident() -> [Anomaly] {
        let open = incidents
        incidents = []
        return open.flatMap { close($0) }
    }

    private mutating func close(_ open: Incident) -> [Anomaly] {
        recentlyClosed.append((open.pods.union([open.anchor]), open.lastAlarm))
        if recentlyClosed.count > 8 { recentlyClosed.removeFirst() }
        let confirmed = !open.stalled && open.anomalousIntervals >= model.confirmIntervals ?? AnalysisModel.defaultConfirmIntervals
        if !confirmed { stats.dismissed += 1 }
        return [anomaly(open, end: open.lastAlarm, status: confirmed ? "closed" : "dismissed")]
    }

    /// Pods an incident's root may be when others are open at once: its members, the pods on
    /// calls with them and their callees (not the roots of the other incidents).
    private func candidates(for incident: Incident) -> Set<String>? {
        let others = incidents.filter { $0.id != incident.id }
        let otherAnchors = incident.concurrent.union(others.map(\.anchor)).subtracting([""])
        guard !otherAnchors.isEmpty else { return nil }
        let graph = CallGraph(calls.keys)
        let members = incident.pods.union(incident.anchor.isEmpty ? [] : [incident.anchor])
        var set = members
        for m in members {
            set.formUnion(graph.neighbours(m))
            set.formUnion(graph.descendants(m))
        }
        for anchor in otherAnchors where !members.contains(anchor) { set.remove(anchor) }
        return set
    }

    private func localize(from changePoint: Int, to end: Int, ranker: Localizer.Ranker = .netobs,
                          candidates: Set<String>? = nil) -> Localizer.Result {
        let store = self.store
        return localizer.localize(changePoint: changePoint, end: end, keys: store.allKeys,
                                  read: { store.values($0, from: $1, to: $2) ?? [] }, calls: Set(calls.keys),
                                  evidenceEnd: (closedBelow ?? end + 1) - 1, ranker: ranker, candidates: candidates)
    }

    private mutating func expire(before k: Int) {
        for id in store.expire(before: k) where id < detectors.count { detectors[id] = nil }
        let horizon = k - model.retention.rawIntervals
        calls = calls.filter { $0.value >= horizon }
        dropReasons = dropReasons.filter { $0.key >= horizon }
    }

    private func anomaly(_ incident: Incident, end: Int, status: String) -> Anomaly {
        let only = candidates(for: incident)
        let result = localize(from: incident.changePoint, to: end, candidates: only)
        let top = result.ranking.first
        if Self.tracing {
            for p in result.ranking.prefix(4) {
                FileHandle.standardError.write(Data("trace \(end) \(status) [\(incident.changePoint)] \(p.pod) score=\(Self.format(p.score)) graph=\(Self.format(p.graphFactor)) \(p.evidence) features=\(p.features.map { Self.format($0) })\n".utf8))
            }
        }
        let pod = top.map { PodName.split($0.pod) } ?? (name: "", namespace: "")
        let features = top?.features ?? FaultClassifier.features([:])
        var reasons: [String: Double] = [:]
        if let top {
            for (k, pods) in dropReasons where k >= incident.changePoint && k <= end {
                for (reason, n) in pods[top.pod] ?? [:] { reasons[reason, default: 0] += n }
            }
        }
        let series = (top?.metrics ?? [:]).filter { $0.value >= model.localizer.evidenceThreshold }
            .sorted { $0.value > $1.value }.map { "\($0.key.rawValue) z=\(Self.format($0.value))" }
        let evidence = Anomaly.Evidence(
            series: series,
            flows: result.movedEdges.prefix(8).map { "\($0.a)<->\($0.b) \($0.metric.rawValue) z=\(Self.format($0.deviation))" },
            dropReasons: reasons,
            uris: result.uris.prefix(5).map {
                ($0.pod == top?.pod ? "" : "\($0.pod) ") + "\($0.uri) \($0.metric.rawValue) z=\(Self.format($0.deviation))"
            },
            domains: result.domains.prefix(5).map { "\($0.domain) \($0.metric.rawValue) z=\(Self.format($0.deviation))" },
            alarms: incident.alarms.sorted { $0.value > $1.value }.prefix(8).map { "\($0.key) z=\(Self.format($0.value))" },
            features: features.map { ($0 * 1000).rounded() / 1000 })
        let i = model.intervalNs
        var alternatives: [String: Anomaly] = [:]
        for ranker in baselines {
            let other = localize(from: incident.changePoint, to: end, ranker: ranker, candidates: only)
            guard let first = other.ranking.first else { continue }
            let p = PodName.split(first.pod)
            // The kind from the centroids alone, over this analysis' deviations of that pod.
            let metrics = result.ranking.first { $0.pod == first.pod }?.metrics ?? [:]
            alternatives[ranker.rawValue] = Anomaly(
                startNs: UInt64(max(0, incident.changePoint)) * i, endNs: UInt64(max(0, end) + 1) * i,
                detectedNs: UInt64(max(0, incident.detected) + 1) * i, pod: p.name, namespace: p.namespace,
                kind: model.classifier.nearest(FaultClassifier.features(metrics)), score: (first.score * 100).rounded() / 100,
                uri: nil, status: status,
                ranking: other.ranking.prefix(5).map {
                    let q = PodName.split($0.pod)
                    return Anomaly.RankedPod(pod: q.name, namespace: q.namespace, score: ($0.score * 100).rounded() / 100)
                },
                evidence: Anomaly.Evidence(series: [], flows: [], dropReasons: [:], uris: [], domains: [], alarms: [], features: []))
        }
        return Anomaly(startNs: UInt64(max(0, incident.changePoint)) * i, endNs: UInt64(max(0, end) + 1) * i,
                       detectedNs: UInt64(max(0, incident.detected) + 1) * i,
                       pod: pod.name, namespace: pod.namespace, kind: model.classifier.classify(features),
                       score: ((top?.score ?? 0) * 100).rounded() / 100,
                       uri: result.uris.first?.uri, status: status,
                       ranking: result.ranking.prefix(5).map {
                           let p = PodName.split($0.pod)
                           return Anomaly.RankedPod(pod: p.name, namespace: p.namespace, score: ($0.score * 100).rounded() / 100)
                       },
                       evidence: evidence, alternatives: alternatives)
    }

    static func format(_ x: Double) -> String { String(format: "%.1f", x) }
}
