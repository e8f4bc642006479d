/// `/`: the service map, the anomalies with their evidence, and the pods.
enum OverviewPage {
    /// The overview lists the newest anomalies only; each pod page lists all of its own.
    static let listedAnomalies = 100

    static func render(edges: [ServiceEdge], pods: [PodSummary], anomalies: [Anomaly], refreshSeconds: Int?) -> String {
        let map = ServiceMapView(pods: pods.map(\.pod), edges: edges, anomalousPods: Set(anomalies.map(\.pod)))
        let legend = [Health.healthy, .degraded, .failing].map {
            "<span class=\"swatch\" style=\"background:\(ServiceMapView.colour($0))\"></span>\($0.rawValue)"
        }.joined(separator: " ")
        return PageShell.render(title: "Overview", active: DashboardPaths.overview, refreshSeconds: refreshSeconds, body: """
        <section class="card"><h2>Service map</h2>
        <p class="muted">Recent calls, caller → callee. \(legend) · a red outline marks a pod named by an anomaly.</p>
        <div class="scroll">\(map.svg())</div></section>
        <section class="card"><h2>Anomalies <span class="count">\(anomalies.count)</span></h2>
        \(AnomalyTable.render(Array(anomalies.prefix(listedAnomalies)), lettered: false))\
        \(anomalies.count > listedAnomalies ? "<p class=\"muted\">The \(listedAnomalies) newest are listed.</p>" : "")</section>
        <section class="card"><h2>Pods <span class="count">\(pods.count)</span></h2>
        \(podTable(pods))</section>
        """)
    }

    static func podTable(_ pods: [PodSummary]) -> String {
        guard !pods.isEmpty else { return "<p class=\"empty\">No pods seen yet.</p>" }
        let rows = pods.map { p in
            """
            <tr class="pod"><td><a href="\(DashboardPaths.pod(p.pod))">\(Markup.escape(p.pod.name))</a></td>\
            <td>\(Markup.escape(p.pod.namespace))</td><td class="num">\(p.requests)</td>\
            <td class="num">\(p.httpErrors)</td><td class="num">\(p.retransmits)</td><td class="num">\(p.drops)</td>\
            <td class="num\(p.anomalies > 0 ? " alert" : "")">\(p.anomalies)</td>\
            <td><a href="\(DashboardPaths.pod(p.pod))">charts</a> · <a href="\(DashboardPaths.uris(p.pod))">URIs</a></td></tr>
            """
        }.joined(separator: "\n")
        return """
        <table class="pods"><thead><tr><th>Pod</th><th>Namespace</th><th class="num">Requests served</th>\
        <th class="num">HTTP 5xx</th><th class="num">Retransmits</th><th class="num">Drops</th><th class="num">Anomalies</th>\
        <th></th></tr></thead>
        <tbody>
        \(rows)
        </tbody></table>
        """
    }
}
