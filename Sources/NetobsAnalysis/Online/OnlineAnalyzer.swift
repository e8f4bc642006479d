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
        var changePoint: Int
        var detected: Int
        var lastAlarm: Int
        var alarms: [SeriesKey: Double]
        var pods: Set<String>
        var anchor: String
        var anchorAlarm: Int
        /// Intervals, from its opening on, in which a member was anomalous.
        var anomalousIntervals = 1
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
    private var incident: Incident?
    private let localizer: Localizer

    public init(model: AnalysisModel = AnalysisModel()) {
        self.model = model
        store = SeriesStore(retention: model.retention)
        localizer = Localizer(config: model.localizer)
    }

    public var interval: UInt64 { model.intervalNs }

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

    /// Closes everything ingested so far (end of a recorded run), including an open incident.
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
            guard key.scope == .pod, key.metric.triggers else { continue }
            if id >= detectors.count { detectors += [SeriesDetector?](repeating: nil, count: id - detectors.count + 1) }
            if detectors[id] == nil { detectors[id] = SeriesDetector(metric: key.metric, config: model.detector) }
            let verdict = detectors[id]!.update(value, interval: k, config: model.detector, learning: incident == nil)
            if verdict.alarm { alarms.append(Alarm(key: key, runStart: verdict.runStart ?? k, score: verdict.score, anomalous: verdict.anomalous)) }
            else if verdict.anomalous { firstAnomalous.append(Alarm(key: key, runStart: k, score: verdict.score, anomalous: true)) }
        }
        if incident == nil { alarms += corroborated(firstAnomalous) }
        if k % 60 == 0 { expire(before: k) }
        return advanceIncident(interval: k, alarms: alarms)
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
    /// A strong alarm of another pod, once the anchor has been quiet `closeGap` intervals, is a
    /// second fault when localization from that alarm's start names that pod: the incident ends
    /// before it and a new one opens (callers of both faults alarm throughout and would otherwise
    /// merge them).
    private mutating func advanceIncident(interval k: Int, alarms: [Alarm]) -> [Anomaly] {
        let strong = model.incidentScore ?? AnalysisModel.defaultIncidentScore
        guard var open = incident else {
            let strongAlarms = alarms.filter { $0.score >= strong }
            guard let start = strongAlarms.map(\.runStart).min() else { return [] }
            let strongPods = Set(strongAlarms.map(\.key.a))
            let members = alarms.filter { strongPods.contains($0.key.a) }
            var opened = Incident(changePoint: start, detected: k, lastAlarm: k, alarms: [:], pods: [], anchor: "", anchorAlarm: k)
            for alarm in members {
                opened.alarms[alarm.key] = alarm.score
                opened.pods.insert(alarm.key.a)
            }
            let raised = anomaly(opened, end: k, status: "open")
            let located = PodName.join(raised.pod, namespace: raised.namespace) ?? ""
            opened.anchor = opened.pods.contains(located) ? located
                : opened.alarms.max { $0.value < $1.value }?.key.a ?? located
            incident = opened
            return [raised]
        }
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
        incident = open
        let newcomers = alarms.filter { !open.pods.contains($0.key.a) && $0.score >= strong }
        if !newcomers.isEmpty, k - open.anchorAlarm >= model.closeGap {
            let start = newcomers.map(\.runStart).min() ?? k
            if let top = localize(from: start, to: k).ranking.first?.pod, newcomers.contains(where: { $0.key.a == top }) {
                incident?.lastAlarm = max(open.changePoint, min(open.lastAlarm, start - 1))
                // The next incident starts at the newcomers (the callers' alarms began with the first fault).
                return closeIncident() + advanceIncident(interval: k, alarms: newcomers)
            }
        }
        guard k - open.lastAlarm >= model.closeGap else { return [] }
        return closeIncident() + advanceIncident(interval: k, alarms: alarms)
    }

    private mutating func closeIncident() -> [Anomaly] {
        guard let open = incident else { return [] }
        incident = nil
        let confirmed = open.anomalousIntervals >= model.confirmIntervals ?? AnalysisModel.defaultConfirmIntervals
        if !confirmed { stats.dismissed += 1 }
        return [anomaly(open, end: open.lastAlarm, status: confirmed ? "closed" : "dismissed")]
    }

    private func localize(from changePoint: Int, to end: Int) -> Localizer.Result {
        let store = self.store
        return localizer.localize(changePoint: changePoint, end: end, keys: store.allKeys,
                                  read: { store.values($0, from: $1, to: $2) ?? [] }, calls: Set(calls.keys))
    }

    private mutating func expire(before k: Int) {
        for id in store.expire(before: k) where id < detectors.count { detectors[id] = nil }
        let horizon = k - model.retention.rawIntervals
        calls = calls.filter { $0.value >= horizon }
        dropReasons = dropReasons.filter { $0.key >= horizon }
    }

    private func anomaly(_ incident: Incident, end: Int, status: String) -> Anomaly {
        let result = localize(from: incident.changePoint, to: end)
        let top = result.ranking.first
        let pod = top.map { PodName.split($0.pod) } ?? (name: "", namespace: "")
        let features = FaultClassifier.features(top?.metrics ?? [:])
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
        return Anomaly(startNs: UInt64(max(0, incident.changePoint)) * i, endNs: UInt64(max(0, end) + 1) * i,
                       detectedNs: UInt64(max(0, incident.detected) + 1) * i,
                       pod: pod.name, namespace: pod.namespace, kind: model.classifier.classify(features),
                       score: ((top?.score ?? 0) * 100).rounded() / 100,
                       uri: result.uris.first?.uri, status: status,
                       ranking: result.ranking.prefix(5).map {
                           let p = PodName.split($0.pod)
                           return Anomaly.RankedPod(pod: p.name, namespace: p.namespace, score: ($0.score * 100).rounded() / 100)
                       },
                       evidence: evidence)
    }

    static func format(_ x: Double) -> String { String(format: "%.1f", x) }
}
