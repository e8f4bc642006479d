/// Deterministic layered layout of the service map: callers left of callees. A pod's layer is
/// its longest call chain from a pod nobody calls (cycles are broken at their back edges);
/// within a layer pods sit near the pods that call them, ties broken by name. Calls between
/// neighbouring layers are plain curves; calls that skip layers run in a lane above the pods
/// they pass, and calls back (or within a layer) in a lane below, so no line or label hides
/// behind a box.
public struct ServiceMapLayout: Sendable {
    public struct Point: Sendable, Equatable {
        public var x: Double
        public var y: Double
    }

    /// An edge's drawing: SVG path data and where its label goes.
    public struct Route: Sendable, Equatable {
        public var path: String
        public var label: Point
    }

    public static let nodeWidth = 160.0
    public static let nodeHeight = 42.0
    static let columnGap = 200.0
    static let rowGap = 34.0
    static let padding = 24.0
    static let laneGap = 20.0

    public private(set) var layers: [[PodID]] = []
    /// Top-left corner of each node.
    public private(set) var positions: [PodID: Point] = [:]
    /// One per edge given, in order; nil for a pod calling itself.
    public private(set) var routes: [Route?] = []
    public private(set) var width = 0.0
    public private(set) var height = 0.0

    public init(nodes: [PodID], edges: [(PodID, PodID)]) {
        let all = Array(Set(nodes + edges.flatMap { [$0.0, $0.1] })).sorted()
        let layerOf = Self.layerAssignment(all, edges.filter { $0.0 != $0.1 })
        let count = (layerOf.values.max() ?? -1) + 1
        var layers = [[PodID]](repeating: [], count: count)
        for pod in all { layers[layerOf[pod]!].append(pod) }
        // Order each layer by the mean row of its callers in the layers before it.
        var callersOf: [PodID: [PodID]] = [:]
        for (a, b) in edges { callersOf[b, default: []].append(a) }
        var row: [PodID: Double] = [:]
        for i in layers.indices {
            let key = Dictionary(uniqueKeysWithValues: layers[i].map { p in
                let rows = (callersOf[p] ?? []).compactMap { row[$0] }
                return (p, rows.isEmpty ? Double.infinity : rows.reduce(0, +) / Double(rows.count))
            })
            layers[i].sort { (key[$0]!, $0) < (key[$1]!, $1) }
            for (r, p) in layers[i].enumerated() { row[p] = Double(r) }
        }
        self.layers = layers

        // Lanes: each skipping (or backward) edge gets the first lane free over its span of layers.
        var above: [[ClosedRange<Int>]] = [], below: [[ClosedRange<Int>]] = []
        func lane(_ span: ClosedRange<Int>, _ lanes: inout [[ClosedRange<Int>]]) -> Int {
            if let free = lanes.firstIndex(where: { $0.allSatisfy { !$0.overlaps(span) } }) {
                lanes[free].append(span)
                return free
            }
            lanes.append([span])
            return lanes.count - 1
        }
        enum Kind { case adjacent, over(lane: Int), under(lane: Int), loop }
        let kinds: [Kind] = edges.map { a, b in
            let (la, lb) = (layerOf[a]!, layerOf[b]!)
            if a == b { return .loop }
            if lb == la + 1 { return .adjacent }
            if lb > la + 1 { return .over(lane: lane((la + 1)...(lb - 1), &above)) }
            return .under(lane: lane(min(la, lb)...max(la, lb), &below))
        }

        let tallest = Double(layers.map(\.count).max() ?? 0)
        let step = Self.nodeHeight + Self.rowGap
        let top = Self.padding + Double(above.count) * Self.laneGap
        width = Self.padding * 2 + Double(count) * Self.nodeWidth + Double(max(0, count - 1)) * Self.columnGap
        height = top + max(1, tallest) * step - Self.rowGap + Self.padding + Double(below.count) * Self.laneGap
        for (i, layer) in layers.enumerated() {
            let offset = (tallest - Double(layer.count)) * step / 2
            for (r, pod) in layer.enumerated() {
                positions[pod] = Point(x: Self.padding + Double(i) * (Self.nodeWidth + Self.columnGap),
                                       y: top + offset + Double(r) * step)
            }
        }
        let ys = layers.map { $0.map { positions[$0]!.y } }
        routes = zip(edges, kinds).map { edge, kind in
            let (a, b) = (positions[edge.0]!, positions[edge.1]!)
            let (la, lb) = (layerOf[edge.0]!, layerOf[edge.1]!)
            switch kind {
            case .loop:
                return nil
            case .adjacent:
                return Self.adjacent(a, b)
            case .over(let lane):
                let y = ys[(la + 1)...(lb - 1)].flatMap { $0 }.min()! - Self.laneGap * Double(lane + 1)
                return Self.over(a, b, laneY: y, firstSkipped: la + 1, lastSkipped: lb - 1)
            case .under(let lane):
                let y = ys[min(la, lb)...max(la, lb)].flatMap { $0 }.max()! + Self.nodeHeight
                    + Self.laneGap * Double(lane + 1)
                return Self.under(a, b, laneY: y)
            }
        }
    }

    static func n(_ v: Double) -> String { LineChart.n(v) }

    /// Right side of the caller to the left side of the callee, label at the curve's middle.
    static func adjacent(_ a: Point, _ b: Point) -> Route {
        let (sx, sy, ex, ey) = (a.x + nodeWidth, a.y + nodeHeight / 2, b.x, b.y + nodeHeight / 2)
        let bend = (ex - sx) / 2
        return Route(path: "M\(n(sx)),\(n(sy)) C\(n(sx + bend)),\(n(sy)) \(n(ex - bend)),\(n(ey)) \(n(ex)),\(n(ey))",
                     label: Point(x: (sx + ex) / 2, y: (sy + ey) / 2 - 5))
    }

    /// Up into a lane above the skipped layers, along it, and down into the callee.
    static func over(_ a: Point, _ b: Point, laneY y: Double, firstSkipped: Int, lastSkipped: Int) -> Route {
        let (sx, sy, ex, ey) = (a.x + nodeWidth, a.y + nodeHeight / 2, b.x, b.y + nodeHeight / 2)
        let column = nodeWidth + columnGap
        let in0 = padding + Double(firstSkipped) * column - 20
        let in1 = padding + Double(lastSkipped) * column + nodeWidth + 20
        let path = "M\(n(sx)),\(n(sy)) C\(n((sx + in0) / 2)),\(n(sy)) \(n((sx + in0) / 2)),\(n(y)) \(n(in0)),\(n(y)) "
            + "L\(n(in1)),\(n(y)) C\(n((in1 + ex) / 2)),\(n(y)) \(n((in1 + ex) / 2)),\(n(ey)) \(n(ex)),\(n(ey))"
        return Route(path: path, label: Point(x: (in0 + in1) / 2, y: y - 5))
    }

    /// From the caller's bottom down into a lane below, back to the callee's bottom.
    static func under(_ a: Point, _ b: Point, laneY y: Double) -> Route {
        let (sx, sy) = (a.x + nodeWidth / 2 + 10, a.y + nodeHeight)
        let (ex, ey) = (b.x + nodeWidth / 2 - 10, b.y + nodeHeight)
        return Route(path: "M\(n(sx)),\(n(sy)) C\(n(sx)),\(n(y)) \(n(ex)),\(n(y)) \(n(ex)),\(n(ey))",
                     label: Point(x: (sx + ex) / 2, y: (sy + ey) / 8 + y * 3 / 4 + 14))
    }

    /// Longest path from a root over the edges left after dropping DFS back edges.
    static func layerAssignment(_ nodes: [PodID], _ edges: [(PodID, PodID)]) -> [PodID: Int] {
        var callees: [PodID: [PodID]] = [:]
        var called = Set<PodID>()
        for (a, b) in edges {
            callees[a, default: []].append(b)
            called.insert(b)
        }
        for k in callees.keys { callees[k] = Array(Set(callees[k]!)).sorted() }
        enum Mark { case open, done }
        var mark: [PodID: Mark] = [:]
        var postorder: [PodID] = []
        var forward: [PodID: [PodID]] = [:]
        func visit(_ n: PodID) {
            mark[n] = .open
            for m in callees[n] ?? [] {
                if mark[m] == .open { continue } // a back edge closes a cycle: not a layer step
                forward[n, default: []].append(m)
                if mark[m] == nil { visit(m) }
            }
            mark[n] = .done
            postorder.append(n)
        }
        for n in nodes where !called.contains(n) && mark[n] == nil { visit(n) }
        for n in nodes where mark[n] == nil { visit(n) }
        var layer: [PodID: Int] = [:]
        for n in postorder.reversed() {
            let l = layer[n, default: 0]
            layer[n] = l
            for m in forward[n] ?? [] { layer[m] = max(layer[m, default: 0], l + 1) }
        }
        return layer
    }
}
