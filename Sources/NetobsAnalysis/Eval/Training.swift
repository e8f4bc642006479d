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

    /// The classifier's features of each labelled pod over its fault window.
    static func labelFeatures(_ run: Run, model: AnalysisModel) -> [(features: [Double], kind: String)] {
        guard let first = run.records.map(\.tsNs).min(), let last = run.records.map(\.tsNs).max() else { return [] }
        var wide = model
        let span = Int((last - first) / model.intervalNs) + 2
        wide.retention.rawIntervals = max(model.retention.rawIntervals, span)
        var analyzer = OnlineAnalyzer(model: wide)
        analyzer.ingest(records: run.records.sorted { $0.tsNs < $1.tsNs })
        _ = analyzer.finish()
        let store = analyzer.store
        let cfg = model.localizer
        return run.labels.compactMap { label in
            guard let pod = PodName.join(label.pod, namespace: label.namespace) else { return nil }
            let cp = Int(label.startNs / model.intervalNs)
            let end = min(Int(label.endNs / model.intervalNs), cp + cfg.maxAfterIntervals)
            var metrics: [Metric: Double] = [:]
            for m in Localizer.podMetrics {
                guard let before = store.values(.pod(pod, m), from: cp - cfg.baselineIntervals, to: cp),
                      let after = store.values(.pod(pod, m), from: cp, to: end) else { continue }
                metrics[m] = Deviation.score(before: before, after: after, metric: m)
            }
            return (FaultClassifier.features(metrics), label.kind)
        }
    }
}
