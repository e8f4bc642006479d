/// The anomaly list with its evidence; lettered (A, B, ...) on a pod page to match the chart bands.
enum AnomalyTable {
    static func letter(_ i: Int) -> String {
        let letters = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
        return i < letters.count ? String(letters[i]) : "#\(i + 1)"
    }

    static func render(_ anomalies: [Anomaly], lettered: Bool) -> String {
        guard !anomalies.isEmpty else { return "<p class=\"empty\">No anomalies detected.</p>" }
        var rows = ""
        for (i, a) in anomalies.enumerated() {
            let evidence = a.evidence.isEmpty ? "" :
                "<ul class=\"evidence\">" + a.evidence.map { "<li>\(Markup.escape($0))</li>" }.joined() + "</ul>"
            let mark = lettered ? "<td class=\"mark\">\(letter(i))</td>" : ""
            rows += """
            <tr class="anomaly" data-pod="\(Markup.escape(a.pod.description))" data-kind="\(Markup.escape(a.kind))">\(mark)\
            <td>\(Format.clock(ns: a.startNs))–\(Format.clock(ns: a.endNs))<br><span class="muted">\
            \(Format.duration(ns: a.endNs >= a.startNs ? a.endNs - a.startNs : 0))</span></td>\
            <td><a href="\(DashboardPaths.pod(a.pod))">\(Markup.escape(a.pod.name))</a>\
            <br><span class="muted">\(Markup.escape(a.pod.namespace))</span></td>\
            <td><span class="kind \(Markup.escape(a.kind))">\(Markup.escape(a.kind))</span></td>\
            <td class="num">\(Format.number(a.score))</td>\
            <td class="uri">\(a.uri.map { Markup.escape($0) } ?? "<span class=\"muted\">—</span>")</td>\
            <td>\(evidence)</td></tr>

            """
        }
        return """
        <table class="anomalies"><thead><tr>\(lettered ? "<th></th>" : "")<th>When (UTC)</th><th>Pod</th>\
        <th>Kind</th><th class="num">Score</th><th>URI</th><th>Evidence</th></tr></thead>
        <tbody>
        \(rows)</tbody></table>
        """
    }
}
