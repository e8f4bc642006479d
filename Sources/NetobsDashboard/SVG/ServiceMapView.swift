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

    /// Cubic curve from the caller's right side to the callee's left side; calls that go back
    /// (or within a layer) bow downwards so they do not cross the boxes they skip.
    static func curve(from a: ServiceMapLayout.Point, to b: ServiceMapLayout.Point) -> [ServiceMapLayout.Point] {
        let w = ServiceMapLayout.nodeWidth, h = ServiceMapLayout.nodeHeight
        let start = ServiceMapLayout.Point(x: a.x + w, y: a.y + h / 2)
        let end = ServiceMapLayout.Point(x: b.x, y: b.y + h / 2)
        if end.x > start.x {
            let bend = (end.x - start.x) / 2
            return [start, .init(x: start.x + bend, y: start.y), .init(x: end.x - bend, y: end.y), end]
        }
        let drop = h + 20
        return [start, .init(x: start.x + 60, y: start.y + drop), .init(x: end.x - 60, y: end.y + drop), end]
    }

    public func svg() -> String {
        let layout = ServiceMapLayout(nodes: pods, edges: edges.map { ($0.source, $0.destination) })
        guard !layout.positions.isEmpty else {
            return "<p class=\"empty\">No flows between pods yet.</p>"
        }
        let n = LineChart.n
        var s = """
        <svg class="service-map" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 \(n(layout.width)) \(n(layout.height + 40))" \
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
        for e in edges {
            guard let a = layout.positions[e.source], let b = layout.positions[e.destination], e.source != e.destination
            else { continue }
            let c = Self.curve(from: a, to: b)
            let mid = ServiceMapLayout.Point(x: (c[0].x + 3 * c[1].x + 3 * c[2].x + c[3].x) / 8,
                                             y: (c[0].y + 3 * c[1].y + 3 * c[2].y + c[3].y) / 8)
            let tip = "\(e.source) → \(e.destination): \(Self.label(e)) (\(e.health.rawValue))"
            s += """
            <g class="edge \(e.health.rawValue)" data-source="\(Markup.escape(e.source.description))" \
            data-destination="\(Markup.escape(e.destination.description))"><title>\(Markup.escape(tip))</title>\
            <path d="M\(n(c[0].x)),\(n(c[0].y)) C\(n(c[1].x)),\(n(c[1].y)) \(n(c[2].x)),\(n(c[2].y)) \
            \(n(c[3].x)),\(n(c[3].y))" stroke="\(Self.colour(e.health))" marker-end="url(#arrow-\(e.health.rawValue))"/></g>

            """
            // Labels after all edges so that no line is drawn over a label.
            labels += "<text class=\"edge-label\" x=\"\(n(mid.x))\" y=\"\(n(mid.y - 5))\">\(Markup.escape(Self.label(e)))</text>\n"
        }
        s += labels
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
        return s + "</svg>"
    }

    static func shortened(_ s: String, to limit: Int) -> String {
        s.count <= limit ? s : String(s.prefix(limit - 1)) + "…"
    }
}
