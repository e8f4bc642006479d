/// Runs a recorded run through the online analyzer, in time order, ticking at each interval
/// boundary as a live controller would (grace 0: the records are all there).
public enum Replay {
    /// - Parameter baselines: rankers whose answers for the same incidents go to each anomaly's
    ///   `alternatives`.
    public static func detect(_ records: [FlowRecord], model: AnalysisModel,
                              baselines: [Localizer.Ranker] = []) -> (anomalies: [Anomaly], stats: OnlineAnalyzer.Stats) {
        var analyzer = OnlineAnalyzer(model: model, baselines: baselines)
        var closed: [Anomaly] = []
        var current: Int?
        for r in records.sorted(by: { $0.tsNs < $1.tsNs }) {
            let k = Int(r.tsNs / model.intervalNs)
            if let c = current, k > c {
                closed += analyzer.close(below: k).filter { $0.status == "closed" }
            }
            current = k
            analyzer.ingest(r)
        }
        closed += analyzer.finish().filter { $0.status == "closed" }
        return (closed, analyzer.stats)
    }

    /// The anomalies a baseline ranker reported for the same incidents.
    public static func alternatives(_ anomalies: [Anomaly], ranker: Localizer.Ranker) -> [Anomaly] {
        ranker == .netobs ? anomalies : anomalies.compactMap { $0.alternatives[ranker.rawValue] }
    }
}
