/// `/flows`: the live record stream, filtered; the table is filled in the browser by
/// flows.js from the records endpoint's server-sent events.
enum FlowsPage {
    /// The records endpoint's filters, as its query parameters.
    static let filters = ["namespace", "pod", "service", "kind", "protocol", "status"]

    static func render(query: [String: String], streamPath: String) -> String {
        let inputs = filters.map { f in
            "<label>\(f)<input name=\"\(f)\" value=\"\(Markup.escape(query[f] ?? ""))\" autocomplete=\"off\"></label>"
        }.joined(separator: "\n")
        let anomaliesOnly = query["anomalies"].map { $0 == "1" || $0 == "true" } ?? false
        return PageShell.render(title: "Live flows", active: DashboardPaths.flows, refreshSeconds: nil, body: """
        <form class="filters card" method="get" action="\(DashboardPaths.flows)">
        \(inputs)
        <label class="check"><input type="checkbox" name="anomalies" value="1"\(anomaliesOnly ? " checked" : "")>anomalies only</label>
        <button type="submit">Apply</button>
        </form>
        <p class="muted"><span id="flow-status">Connecting…</span> <span id="flow-count"></span></p>
        <noscript><p class="empty">The live table needs JavaScript; the stream is at \(Markup.escape(streamPath)).</p></noscript>
        <table class="flows" id="flows" data-stream="\(Markup.escape(streamPath))"><thead><tr><th>Time (UTC)</th>\
        <th>Kind</th><th>Source</th><th>Destination</th><th>Details</th></tr></thead><tbody></tbody></table>
        <script src="\(DashboardPaths.flowsScript)"></script>
        """)
    }
}
