/// The service map as SVG: pods as boxes linking to their charts, calls as arrows coloured by
/// health with their figures as labels; pods named by an anomaly get a red outline.
public struct ServiceMapView: Sendable {
    public var pods: [PodID]
    public var edges: [ServiceEdge]
    public var anomalousPods: Set<PodID>

    public init(pods: [PodID], edges: [ServiceEdge], anomalousPods: Set<PodID>) {
        self.pods = pods
        self.edges = edges
        self.anomalousPods = anomalousPods
    }

    public static func colour(_ h: Health) -> String {
        switch h {
        case .healthy: "#2f855a"
        case .degraded: "#d69e2e"
        case .failing: "#c53030"
        }
    }

    /// "120 req · 2% err · p99 35 ms · 3 rtx": what is there to say about the edge, briefly.
    public static func label(_ e: ServiceEdge) -> String {
        var parts: [String] = []
        if e.requests > 0 {
            parts.append("\(e.requests) req")
            if e.errorRate > 0 { parts.append(Format.percent(e.errorRate) + " err") }
            if let p99 = e.p99LatencyNs { parts.append("p99 " + Format.duration(ns: p99)) }
        }
        if e.retransmits > 0 { parts.append("\(e.retransmits) rtx") }
        if e.drops > 0 { parts.append("\(e.drops) drop") }
        if e.connectionErrors > 0 { parts.append("\(e.connectionErrors) conn err") }
        return parts.isEmpty ? "tcp" : parts.joined(separator: " · ")
    }

    public func svg() -> String {
        let layout = ServiceMapLayout(nodes: pods, edges: edges.map { ($0.source, $0.destination) })
        guard !layout.positions.isEmpty else {
            return "<p class=\"empty\">No flows between pods yet.</p>"
        }
        let n = LineChart.n
        var s = """
        <svg class="service-map" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 \(n(layout.width)) \(n(layout.height))" \
        width="\(n(layout.width))" role="img" aria-label="Service map">
        <defs>
        """
        for h in [Health.healthy, .degraded, .failing] {
            s += """
            <marker id="arrow-\(h.rawValue)" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" \
            orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="\(Self.colour(h))"/></marker>
            """
        }
        s += "</defs>\n"
        var labels = ""
        for (e, route) in zip(edges, layout.routes) {
            guard let route else { continue }
            let tip = "\(e.source) → \(e.destination): \(Self.label(e)) (\(e.health.rawValue))"
            s += """
            <g class="edge \(e.health.rawValue)" data-source="\(Markup.escape(e.source.description))" \
            data-destination="\(Markup.escape(e.destination.description))"><title>\(Markup.escape(tip))</title>\
            <path d="\(route.path)" stroke="\(Self.colour(e.health))" marker-end="url(#arrow-\(e.health.rawValue))"/></g>

            """
            // A backing box so that lines crossing the label do not show between its words
            // (6.4 px per character of 11 px DejaVu Sans, a little generous).
            let text = Self.label(e)
            let w = Double(text.count) * 6.4 + 8
            labels += "<rect class=\"edge-label-box\" x=\"\(n(route.label.x - w / 2))\" y=\"\(n(route.label.y - 11))\" "
                + "width=\"\(n(w))\" height=\"15\" rx=\"3\"/>"
                + "<text class=\"edge-label\" x=\"\(n(route.label.x))\" y=\"\(n(route.label.y))\">"
                + "\(Markup.escape(text))</text>\n"
        }
        let worst = Dictionary(edges.map { ($0.destination, $0.health) }, uniquingKeysWith: max)
        for layer in layout.layers {
            for pod in layer {
                let p = layout.positions[pod]!
                let anomalous = anomalousPods.contains(pod)
                let health = worst[pod] ?? .healthy
                let name = Self.shortened(pod.name, to: 20)
                s += """
                <a href="\(DashboardPaths.pod(pod))"><g class="node \(health.rawValue)\(anomalous ? " anomalous" : "")" \
                data-pod="\(Markup.escape(pod.description))"><title>\(Markup.escape(pod.description))</title>\
                <rect x="\(n(p.x))" y="\(n(p.y))" width="\(n(ServiceMapLayout.nodeWidth))" \
                height="\(n(ServiceMapLayout.nodeHeight))" rx="7" stroke="\(anomalous ? Self.colour(.failing) : Self.colour(health))"/>\
                <text class="pod-name" x="\(n(p.x + ServiceMapLayout.nodeWidth / 2))" y="\(n(p.y + 18))">\(Markup.escape(name))</text>\
                <text class="pod-ns" x="\(n(p.x + ServiceMapLayout.nodeWidth / 2))" y="\(n(p.y + 33))">\
                \(Markup.escape(pod.namespace.isEmpty ? "-" : pod.namespace))\(anomalous ? " · anomaly" : "")</text></g></a>

                """
            }
        }
        // Labels last: no line or box is drawn over one.
        return s + labels + "</svg>"
    }

    static func shortened(_ s: String, to limit: Int) -> String {
        s.count <= limit ? s : String(s.prefix(limit - 1)) + "…"
    }
}
