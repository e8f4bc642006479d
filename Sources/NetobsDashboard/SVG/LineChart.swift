/// A time-series line chart as an SVG string: axes with ticks and units, one path per line
/// (broken where a value is missing), anomaly intervals shaded and lettered (the paper's Fig. 6).
public struct LineChart: Sendable {
    public struct Line: Sendable {
        public var name: String
        public var values: [Double?]
        public init(name: String, values: [Double?]) {
            self.name = name
            self.values = values
        }
    }

    /// A shaded interval with a short label ("A loss").
    public struct Band: Sendable, Equatable {
        public var startNs: UInt64
        public var endNs: UInt64
        public var label: String
        public var tooltip: String
        public init(startNs: UInt64, endNs: UInt64, label: String, tooltip: String) {
            self.startNs = startNs
            self.endNs = endNs
            self.label = label
            self.tooltip = tooltip
        }
    }

    /// Line colours, distinguishable and readable on white.
    public static let palette = ["#2b6cb0", "#d97706", "#2f855a", "#9b2c2c", "#6b46c1", "#0e7490", "#b83280", "#4a5568"]

    public var title: String
    public var unit: String
    public var grid: SeriesGrid
    public var lines: [Line]
    public var bands: [Band]
    public var width = 560.0
    public var height = 210.0
    /// Counts: no ticks between whole numbers.
    public var integerTicks = false
    let margin = (top: 30.0, right: 30.0, bottom: 26.0, left: 50.0)

    public init(title: String, unit: String, grid: SeriesGrid, lines: [Line], bands: [Band] = []) {
        self.title = title
        self.unit = unit
        self.grid = grid
        self.lines = lines
        self.bands = bands
    }

    var xScale: LinearScale {
        LinearScale(domain: 0...Double(grid.endNs - grid.startNs) / 1e9,
                    range: margin.left...(width - margin.right))
    }

    var yScale: LinearScale {
        let top = lines.flatMap { $0.values.compactMap { $0 } }.max() ?? 0
        return LinearScale(domain: LinearScale.zeroBasedDomain(max: integerTicks ? max(top, 1) : top),
                           range: margin.top...(height - margin.bottom), inverted: true)
    }

    func x(ns: UInt64) -> Double { xScale(Double(Int64(bitPattern: ns &- grid.startNs)) / 1e9) }

    /// "M x,y L x,y ..." with a new M after each gap; coordinates to 0.1 px.
    public func pathData(_ values: [Double?]) -> String {
        let xs = grid.timestampsNs
        let y = yScale
        var parts: [String] = []
        var penDown = false
        for (i, v) in values.enumerated() where i < xs.count {
            guard let v else { penDown = false; continue }
            parts.append((penDown ? "L" : "M") + Self.point(x(ns: xs[i]), y(v)))
            penDown = true
        }
        return parts.joined(separator: " ")
    }

    /// Points with no neighbour, which a path alone would not show.
    func isolatedPoints(_ values: [Double?]) -> [(Double, Double)] {
        let xs = grid.timestampsNs
        return values.indices.compactMap { i in
            guard i < xs.count, let v = values[i] else { return nil }
            let before = i > 0 ? values[i - 1] : nil
            let after = i + 1 < values.count ? values[i + 1] : nil
            return before == nil && after == nil ? (x(ns: xs[i]), yScale(v)) : nil
        }
    }

    public func svg() -> String {
        let (x0, x1) = (margin.left, width - margin.right)
        let (y0, y1) = (margin.top, height - margin.bottom)
        let heading = unit.isEmpty ? title : "\(title) (\(unit))"
        var s = """
        <svg class="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 \(Self.n(width)) \(Self.n(height))" \
        role="img" aria-label="\(Markup.escape(heading))">
        <text class="chart-title" x="\(Self.n(x0))" y="18">\(Markup.escape(heading))</text>

        """
        for band in bands {
            let a = min(max(x(ns: band.startNs), x0), x1)
            let b = min(max(x(ns: band.endNs), x0), x1)
            s += """
            <g class="anomaly-band"><title>\(Markup.escape(band.tooltip))</title>\
            <rect x="\(Self.n(a))" y="\(Self.n(y0))" width="\(Self.n(max(b - a, 2)))" height="\(Self.n(y1 - y0))"/>\
            <text x="\(Self.n(a + 3))" y="\(Self.n(y0 + 12))">\(Markup.escape(band.label))</text></g>

            """
        }
        for tick in yScale.ticks() where !integerTicks || tick == tick.rounded() {
            let y = yScale(tick)
            s += """
            <line class="gridline" x1="\(Self.n(x0))" y1="\(Self.n(y))" x2="\(Self.n(x1))" y2="\(Self.n(y))"/>\
            <text class="tick y" x="\(Self.n(x0 - 6))" y="\(Self.n(y + 4))">\(Format.number(tick))</text>

            """
        }
        for tick in TimeTicks.ticks(fromNs: grid.startNs, toNs: grid.endNs, maxTicks: 5) {
            let x = x(ns: tick)
            s += """
            <line class="tickmark" x1="\(Self.n(x))" y1="\(Self.n(y1))" x2="\(Self.n(x))" y2="\(Self.n(y1 + 4))"/>\
            <text class="tick x" x="\(Self.n(x))" y="\(Self.n(y1 + 16))">\(Format.clock(ns: tick))</text>

            """
        }
        s += """
        <line class="axis" x1="\(Self.n(x0))" y1="\(Self.n(y1))" x2="\(Self.n(x1))" y2="\(Self.n(y1))"/>\
        <line class="axis" x1="\(Self.n(x0))" y1="\(Self.n(y0))" x2="\(Self.n(x0))" y2="\(Self.n(y1))"/>

        """
        var empty = true
        for (i, line) in lines.enumerated() {
            let colour = Self.palette[i % Self.palette.count]
            let d = pathData(line.values)
            guard !d.isEmpty else { continue }
            empty = false
            s += "<path class=\"series\" data-series=\"\(Markup.escape(line.name))\" stroke=\"\(colour)\" d=\"\(d)\"/>\n"
            for (px, py) in isolatedPoints(line.values) {
                s += "<circle class=\"point\" fill=\"\(colour)\" cx=\"\(Self.n(px))\" cy=\"\(Self.n(py))\" r=\"2.5\"/>\n"
            }
        }
        if empty {
            s += "<text class=\"no-data\" x=\"\(Self.n((x0 + x1) / 2))\" y=\"\(Self.n((y0 + y1) / 2))\">no data</text>\n"
        }
        return s + "</svg>"
    }

    static func point(_ x: Double, _ y: Double) -> String { "\(n(x)),\(n(y))" }

    /// A coordinate to 0.1 px, without a trailing ".0".
    static func n(_ v: Double) -> String {
        let r = (v * 10).rounded() / 10
        return r == r.rounded() ? String(Int(r)) : String(r)
    }
}
