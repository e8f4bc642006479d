/// `/pods/{ns}/{pod}/uris`: p99 latency per request URI the pod serves (the paper's Fig. 7).
enum URIPage {
    /// URIs drawn in the chart; the table lists them all.
    static let chartedURIs = 8

    static func render(_ data: PodURILatency, refreshSeconds: Int?) -> String {
        let charted = Array(data.uris.prefix(chartedURIs))
        var chart = LineChart(title: "HTTP latency p99 per URI", unit: "ms", grid: data.grid,
                              lines: charted.map { .init(name: $0.uri, values: $0.p99Ms) },
                              bands: PodPage.bands(data.anomalies))
        (chart.width, chart.height) = (960, 300)
        let flagged = Set(data.anomalies.compactMap(\.uri))
        let rows = data.uris.enumerated().map { i, u in
            let swatch = i < chartedURIs
                ? "<span class=\"swatch\" style=\"background:\(LineChart.palette[i % LineChart.palette.count])\"></span>" : ""
            return """
            <tr class="uri-row\(flagged.contains(u.uri) ? " alert" : "")"><td class="uri">\(swatch)\(Markup.escape(u.uri))</td>\
            <td class="num">\(u.requests)</td><td class="num">\(u.errors)</td>\
            <td class="num">\(Format.duration(ns: u.p50Ns))</td><td class="num">\(Format.duration(ns: u.p99Ns))</td>\
            <td class="num">\(Format.duration(ns: u.maxNs))</td></tr>
            """
        }.joined(separator: "\n")
        let table = data.uris.isEmpty ? "<p class=\"empty\">No HTTP requests served by this pod.</p>" : """
            <table class="uris"><thead><tr><th>URI</th><th class="num">Requests</th><th class="num">5xx</th>\
            <th class="num">p50</th><th class="num">p99</th><th class="num">max</th>\
            </tr></thead><tbody>
            \(rows)
            </tbody></table>
            """
        return PageShell.render(title: "Pod \(data.pod) · URIs", active: "", refreshSeconds: refreshSeconds, body: """
        <p class="muted"><a href="\(DashboardPaths.pod(data.pod))">← charts of this pod</a> · \
        anomalous URIs are highlighted.</p>
        <figure class="chart-box wide" data-metric="uri-p99">\(chart.svg())</figure>
        <section class="card"><h2>URIs <span class="count">\(data.uris.count)</span></h2>\(table)</section>
        """)
    }
}
