/// `/pods/{ns}/{pod}`: the pod's time series with its anomalies shaded (the paper's Fig. 6).
enum PodPage {
    static func bands(_ anomalies: [Anomaly]) -> [LineChart.Band] {
        anomalies.enumerated().map { i, a in
            LineChart.Band(startNs: a.startNs, endNs: a.endNs, label: "\(AnomalyTable.letter(i)) \(a.kind)",
                           tooltip: "\(a.kind) on \(a.pod) (score \(Format.number(a.score)))"
                               + (a.uri.map { ", URI \($0)" } ?? ""))
        }
    }

    static func render(_ data: PodTimeSeries, refreshSeconds: Int?) -> String {
        let charts = data.series.map { s in
            let isCount = s.metric.unit == .count
            var chart = LineChart(title: s.metric.title,
                                  unit: isCount ? "per " + Format.duration(ns: data.grid.bucketNs) : s.metric.unit.symbol,
                                  grid: data.grid, lines: [.init(name: s.metric.rawValue, values: s.values)],
                                  bands: bands(data.anomalies))
            chart.integerTicks = isCount
            return "<figure class=\"chart-box\" data-metric=\"\(s.metric.rawValue)\">\(chart.svg())</figure>"
        }.joined(separator: "\n")
        return PageShell.render(title: "Pod \(data.pod)", active: "", refreshSeconds: refreshSeconds, body: """
        <p class="muted">Buckets of \(Format.duration(ns: data.grid.bucketNs)), times in UTC. \
        L4 metrics: connections with this pod at either end; HTTP: requests it serves. \
        <a href="\(DashboardPaths.uris(data.pod))">Latency per URI →</a></p>
        <section class="card"><h2>Anomalies</h2>\(AnomalyTable.render(data.anomalies, lettered: true))</section>
        <div class="charts">
        \(charts)
        </div>
        """)
    }
}
