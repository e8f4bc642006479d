/// Runs a recorded run through the online analyzer, in time order, ticking at each interval
/// boundary as a live controller would (grace 0: the records are all there).
public enum Replay {
    public static func detect(_ records: [FlowRecord], model: AnalysisModel) -> (anomalies: [Anomaly], stats: OnlineAnalyzer.Stats) {
        var analyzer = OnlineAnalyzer(model: model)
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
}
