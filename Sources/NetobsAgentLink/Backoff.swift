/// Exponential backoff with full jitter (pure): attempt n waits a random time in
/// [0, min(cap, base · 2^n)], at least `floor`. Reset after a successful handshake.
public struct Backoff: Sendable {
    public var baseMs: UInt64
    public var capMs: UInt64
    public var floorMs: UInt64
    public private(set) var attempt: Int = 0

    public init(baseMs: UInt64 = 200, capMs: UInt64 = 30_000, floorMs: UInt64 = 50) {
        self.baseMs = baseMs
        self.capMs = capMs
        self.floorMs = floorMs
    }

    /// The ceiling of the next delay (without jitter).
    public var ceilingMs: UInt64 {
        let shift = min(attempt, 30)
        return min(capMs, baseMs << UInt64(shift))
    }

    public mutating func nextDelayMs<G: RandomNumberGenerator>(using generator: inout G) -> UInt64 {
        let ceiling = ceilingMs
        attempt += 1
        return max(floorMs, UInt64.random(in: 0...ceiling, using: &generator))
    }

    public mutating func nextDelayMs() -> UInt64 {
        var g = SystemRandomNumberGenerator()
        return nextDelayMs(using: &g)
    }

    public mutating func reset() { attempt = 0 }
}
