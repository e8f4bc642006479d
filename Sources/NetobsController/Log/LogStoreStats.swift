/// What the durable logs hold and went through, for /metrics.
public struct LogStoreStats: Sendable {
    public var retention: LogRetention
    /// Bytes and segment files of every agent's log.
    public var bytes = 0
    public var segments = 0
    public var agents = 0
    /// Per agent and reason, what retention dropped since start.
    public var dropped: [String: [RetentionReason: DropCount]] = [:]
    /// Logs whose end was an incomplete entry (cut when opened), and the bytes cut.
    public var tornTails: UInt64 = 0
    public var tornBytes: UInt64 = 0
    public var appendFailures: [AppendHealth.Failure: UInt64] = [:]
    /// Appends fail and agents are held back.
    public var appendsBlocked = false
    /// Bytes read from segments since start (recovery, counts of dropped segments, readers).
    public var bytesRead = 0
    /// Free bytes on the data volume (nil: unknown).
    public var volumeFreeBytes: UInt64?

    public init(retention: LogRetention) { self.retention = retention }
}

/// Sizes and durations as operators write them: `64M`, `1G`, `7d`.
public enum ByteCount {
    /// `N`, or `N` with a binary suffix K, M, G, T (also Ki/KiB/KB…): 64M = 64 MiB.
    public static func parse(_ text: String) -> Int? {
        var digits = Substring(text)
        var unit = ""
        while let c = digits.last, !c.isNumber { unit = String(c) + unit; digits = digits.dropLast() }
        guard let n = Int(digits), n >= 0 else { return nil }
        let shifts: [String: Int] = ["": 0, "B": 0, "K": 10, "M": 20, "G": 30, "T": 40]
        var u = unit.uppercased()
        if u.hasSuffix("IB") { u.removeLast(2) } else if u.hasSuffix("I") || (u.count == 2 && u.hasSuffix("B")) { u.removeLast() }
        guard let shift = shifts[u], n <= Int.max >> shift else { return nil }
        return n << shift
    }

    /// `N` with a unit s, m, h or d (`90s`, `30m`, `12h`, `7d`), in nanoseconds.
    public static func parseDuration(_ text: String) -> UInt64? {
        let t = text
        guard let unit = t.last, let n = UInt64(t.dropLast()) else { return nil }
        let seconds: [Character: UInt64] = ["s": 1, "m": 60, "h": 3600, "d": 86_400]
        guard let s = seconds[unit], n <= UInt64.max / 1_000_000_000 / s else { return nil }
        return n * s * 1_000_000_000
    }

    static func text(_ bytes: Int) -> String {
        for (shift, unit) in [(40, "TiB"), (30, "GiB"), (20, "MiB"), (10, "KiB")] where bytes >= 1 << shift && bytes % (1 << shift) == 0 {
            return "\(bytes >> shift) \(unit)"
        }
        return "\(bytes) bytes"
    }

    static func duration(_ ns: UInt64) -> String {
        let s = ns / 1_000_000_000
        for (n, unit) in [(UInt64(86_400), "d"), (3600, "h"), (60, "m")] where s >= n && s % n == 0 { return "\(s / n)\(unit)" }
        return "\(s)s"
    }
}
