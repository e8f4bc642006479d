/// Fits a model from labelled runs: the fault-kind classifier from the deviations of each
/// labelled pod over its fault window, then the detector thresholds by a small grid search
/// for the best F1 (ties: kind accuracy, then delay; the defaults win remaining ties).
public enum Training {
    public struct Run: Sendable {
        public var name: String
        public var records: [FlowRecord]
        public var labels: [FaultLabel]
        public init(name: String, records: [FlowRecord], labels: [FaultLabel]) {
            self.name = name
            self.records = records
            self.labels = labels
        }
    }

    public struct Outcome: Sendable {
        public var model: AnalysisModel
        public var examples: Int
        public var grid: [(zThreshold: Double, logAlpha: Double, evaluation: Evaluation)]
    }

    public static let zGrid = [4.0, 6.0, 8.0]
    public static let alphaGrid = [-9.2, -13.8, -18.4]

    public static func fit(_ runs: [Run], base: AnalysisModel = AnalysisModel(),
                           zGrid: [Double] = zGrid, alphaGrid: [Double] = alphaGrid) -> Outcome {
        var model = base
        var examples: [(features: [Double], kind: String)] = []
        for run in runs { examples += labelFeatures(run, model: base) }
        model.classifier = FaultClassifier.fit(examples)

        var grid: [(Double, Double, Evaluation)] = []
        var best: (key: (Double, Double, Double), model: AnalysisModel)?
        for z in zGrid {
            for alpha in alphaGrid {
                var candidate = model
                candidate.detector.zThreshold = z
                candidate.detector.logAlpha = alpha
                let e = evaluate(runs, model: candidate)
                grid.append((z, alpha, e))
                let isDefault = z == base.detector.zThreshold && alpha == base.detector.logAlpha
                let key = (e.f1, e.kindAccuracy + e.avgAt5, -e.medianDelayIntervals + (isDefault ? 1e-6 : 0))
                if best == nil || key > best!.key { best = (key, candidate) }
            }
        }
        model = best?.model ?? model
        model.trainedOn = runs.map(\.name).joined(separator: ",")
        return Outcome(model: model, examples: examples.count, grid: grid.map { ($0.0, $0.1, $0.2) })
    }

    public static func evaluate(_ runs: [Run], model: AnalysisModel) -> Evaluation {
        Evaluation.score(runs.map { (Replay.detect($0.records, model: model).anomalies, $0.labels) },
                         intervalNs: model.intervalNs)
    }

    /// The whole run in a store wide enough to hold it.
    static func replayedStore(_ run: Run, model: AnalysisModel) -> (store: SeriesStore, calls: Set<CallEdge>)? {
        guard let first = run.records.map(\.tsNs).min(), let last = run.records.map(\.tsNs).max() else { return nil }
        var wide = model
        let span = Int((last - first) / model.intervalNs) + 2
        wide.retention.rawIntervals = max(model.retention.rawIntervals, span)
        var analyzer = OnlineAnalyzer(model: wide)
        analyzer.ingest(records: run.records.sorted { $0.tsNs < $1.tsNs })
        _ = analyzer.finish()
        return (analyzer.store, analyzer.callEdges)
    }

    /// The classifier's features of each labelled pod over its fault window.
    static func labelFeatures(_ run: Run, model: AnalysisModel) -> [(features: [Double], kind: String)] {
        guard let (store, _) = replayedStore(run, model: model) else { return [] }
        let cfg = model.localizer
        let localizer = Localizer(config: cfg)
        return run.labels.compactMap { label in
            guard let pod = PodName.join(label.pod, namespace: label.namespace) else { return nil }
            let cp = Int(label.startNs / model.intervalNs)
            let end = min(Int(label.endNs / model.intervalNs), cp + cfg.maxAfterIntervals)
            var metrics: [Metric: Double] = [:]
            for m in Localizer.podMetrics + Localizer.evidenceMetrics {
                guard let before = store.values(.pod(pod, m), from: cp - cfg.baselineIntervals, to: cp),
                      let after = store.values(.pod(pod, m), from: cp, to: end) else { continue }
                metrics[m] = Deviation.score(before: before, after: after, metric: m)
            }
            let evidence = localizer.evidence(pod: pod, changePoint: cp, end: end, evidenceEnd: end + model.closeGap + 2,
                                              keys: store.allKeys, read: { store.values($0, from: $1, to: $2) ?? [] })
            return (FaultClassifier.features(metrics, evidence: evidence), label.kind)
        }
    }

    /// Ranking alone: each ranker given each labelled fault's own start and end (no detection);
    /// per label its kind and, per ranker, the 0-based rank of its pod (nil: not ranked).
    public static func ranksAtFaultStart(_ run: Run, model: AnalysisModel,
                                         rankers: [Localizer.Ranker]) -> [(kind: String, ranks: [Localizer.Ranker: Int?])] {
        guard let (store, calls) = replayedStore(run, model: model) else { return [] }
        let localizer = Localizer(config: model.localizer)
        return run.labels.map { label in
            let cp = Int(label.startNs / model.intervalNs)
            let end = Int(label.endNs / model.intervalNs)
            var ranks: [Localizer.Ranker: Int?] = [:]
            for ranker in rankers {
                let result = localizer.localize(changePoint: cp, end: end, keys: store.allKeys,
                                                read: { store.values($0, from: $1, to: $2) ?? [] }, calls: calls,
                                                evidenceEnd: end + model.closeGap, ranker: ranker)
                ranks[ranker] = .some(result.ranking.firstIndex { p in
                    let name = PodName.split(p.pod)
                    return label.matches(pod: name.name, namespace: name.namespace)
                })
            }
            return (label.kind, ranks)
        }
    }
}
