/// A sliding-window baseline: median and MAD of the last `window` normal values (plus mean
/// and variance for count tests), recomputed every `refreshEvery` pushes to keep updates cheap.
/// Memory: the window as Float32.
public struct RobustBaseline: Sendable {
    public let window: Int
    public let refreshEvery: Int
    private var ring: [Float] = []
    private var next = 0
    private var sinceRefresh = 0
    public private(set) var pushed = 0
    public private(set) var median: Double = 0
    /// 1.4826 × MAD: the standard deviation of normal data.
    public private(set) var scale: Double = 0
    /// (p90 − median) / 1.2816: the same for normal data, larger when the series often visits
    /// a higher level (a minority mode, which the MAD does not see).
    public private(set) var upperScale: Double = 0
    public private(set) var mean: Double = 0
    public private(set) var variance: Double = 0

    public init(window: Int = 32, refreshEvery: Int = 4) {
        self.window = max(3, window)
        self.refreshEvery = max(1, refreshEvery)
    }

    public mutating func push(_ x: Double) {
        if ring.count < window {
            ring.append(Float(x))
        } else {
            ring[next] = Float(x)
        }
        next = (next + 1) % window
        pushed += 1
        sinceRefresh += 1
        if sinceRefresh >= refreshEvery || ring.count <= refreshEvery * 2 { refresh() }
    }

    public mutating func reset() {
        ring.removeAll(keepingCapacity: true)
        next = 0
        pushed = 0
        sinceRefresh = 0
    }

    public var count: Int { ring.count }

    private mutating func refresh() {
        sinceRefresh = 0
        // Sorted copies on the stack: no allocation per refresh.
        let (m, p90, mad) = withUnsafeTemporaryAllocation(of: Float.self, capacity: ring.count) { storage -> (Float, Float, Float) in
            var buf = storage
            _ = buf.initialize(from: ring)
            buf.sort()
            let m = Self.middle(buf)
            let p90 = buf[Int((Double(buf.count - 1) * 0.9).rounded())]
            for i in buf.indices { buf[i] = abs(buf[i] - m) }
            buf.sort()
            return (m, p90, Self.middle(buf))
        }
        median = Double(m)
        scale = 1.4826 * Double(mad)
        upperScale = max(0, Double(p90 - m)) / 1.2816
        var sum = 0.0, sumSquares = 0.0
        for v in ring {
            sum += Double(v)
            sumSquares += Double(v) * Double(v)
        }
        mean = sum / Double(ring.count)
        variance = max(0, sumSquares / Double(ring.count) - mean * mean)
    }

    static func middle(_ sorted: UnsafeMutableBufferPointer<Float>) -> Float {
        let n = sorted.count
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2
    }
}
