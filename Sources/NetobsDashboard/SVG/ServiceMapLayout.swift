/// Deterministic layered layout of the service map: callers left of callees. A pod's layer is
/// its longest call chain from a pod nobody calls (cycles are broken at their back edges);
/// within a layer pods sit near the pods that call them, ties broken by name.
public struct ServiceMapLayout: Sendable {
    public struct Point: Sendable, Equatable {
        public var x: Double
        public var y: Double
    }

    public static let nodeWidth = 160.0
    public static let nodeHeight = 42.0
    static let columnGap = 200.0
    static let rowGap = 34.0
    static let padding = 24.0

    public private(set) var layers: [[PodID]] = []
    /// Top-left corner of each node.
    public private(set) var positions: [PodID: Point] = [:]
    public private(set) var width = 0.0
    public private(set) var height = 0.0

    public init(nodes: [PodID], edges: [(PodID, PodID)]) {
        let all = Array(Set(nodes + edges.flatMap { [$0.0, $0.1] })).sorted()
        let layerOf = Self.layerAssignment(all, edges.filter { $0.0 != $0.1 })
        let count = (layerOf.values.max() ?? -1) + 1
        var layers = [[PodID]](repeating: [], count: count)
        for pod in all { layers[layerOf[pod]!].append(pod) }
        // Order each layer by the mean row of its callers in the layers before it.
        var row: [PodID: Double] = [:]
        for i in layers.indices {
            func key(_ p: PodID) -> Double {
                let callers = edges.filter { $0.1 == p }.compactMap { row[$0.0] }
                return callers.isEmpty ? .infinity : callers.reduce(0, +) / Double(callers.count)
            }
            layers[i].sort { (key($0), $0) < (key($1), $1) }
            for (r, p) in layers[i].enumerated() { row[p] = Double(r) }
        }
        self.layers = layers
        let tallest = Double(layers.map(\.count).max() ?? 0)
        let step = Self.nodeHeight + Self.rowGap
        width = Self.padding * 2 + Double(count) * Self.nodeWidth + Double(max(0, count - 1)) * Self.columnGap
        height = Self.padding * 2 + max(1, tallest) * step - Self.rowGap
        for (i, layer) in layers.enumerated() {
            let offset = (tallest - Double(layer.count)) * step / 2
            for (r, pod) in layer.enumerated() {
                positions[pod] = Point(x: Self.padding + Double(i) * (Self.nodeWidth + Self.columnGap),
                                       y: Self.padding + offset + Double(r) * step)
            }
        }
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
