#if canImport(Glibc)
import Glibc
#endif

/// How `netobs tail`'s table shows a record's time (`--time-format`). Every form is UTC.
public enum TimeFormat: String, CaseIterable, Sendable {
    /// 13:04:05.123
    case time
    /// 2025-05-01T13:04:05.123Z
    case rfc3339
    /// 2025-05-01T13:04:05.123456789Z
    case rfc3339nano
    /// 1746104645.123 (seconds)
    case unix
    /// 1746104645123456789
    case unixnano
    /// 4.2s ago, 3m12s ago: the age when printed
    case relative

    /// The column's width, so that lines stay aligned.
    public var width: Int {
        switch self {
        case .time: 12
        case .rfc3339: 24
        case .rfc3339nano: 30
        case .unix: 14
        case .unixnano: 19
        case .relative: 11
        }
    }

    public func format(_ ns: UInt64, nowNs: UInt64) -> String {
        guard ns > 0 else { return "-" }
        let seconds = Int(ns / 1_000_000_000), nanos = Int(ns % 1_000_000_000)
        switch self {
        case .time:
            return "\(Self.pad(seconds / 3600 % 24, 2)):\(Self.pad(seconds / 60 % 60, 2)):\(Self.pad(seconds % 60, 2)).\(Self.pad(nanos / 1_000_000, 3))"
        case .rfc3339, .rfc3339nano:
            let (y, mo, d) = CivilTime.date(days: seconds / 86_400)
            let fraction = self == .rfc3339 ? Self.pad(nanos / 1_000_000, 3) : Self.pad(nanos, 9)
            return "\(Self.pad(y, 4))-\(Self.pad(mo, 2))-\(Self.pad(d, 2))T\(Self.pad(seconds / 3600 % 24, 2)):"
                + "\(Self.pad(seconds / 60 % 60, 2)):\(Self.pad(seconds % 60, 2)).\(fraction)Z"
        case .unix:
            return "\(seconds).\(Self.pad(nanos / 1_000_000, 3))"
        case .unixnano:
            return String(ns)
        case .relative:
            return Self.age(nowNs >= ns ? nowNs - ns : 0) + " ago"
        }
    }

    /// 850ms, 4.2s, 3m12s, 2h05m, 3d04h: two units at most, as an operator reads an age.
    static func age(_ ns: UInt64) -> String {
        let ms = ns / 1_000_000
        if ms < 1000 { return "\(ms)ms" }
        if ms < 60_000 { return "\(ms / 1000).\(ms % 1000 / 100)s" }
        let s = ms / 1000
        if s < 3600 { return "\(s / 60)m\(pad(Int(s % 60), 2))s" }
        if s < 86_400 { return "\(s / 3600)h\(pad(Int(s / 60 % 60), 2))m" }
        return "\(s / 86_400)d\(pad(Int(s / 3600 % 24), 2))h"
    }

    private static func pad(_ v: Int, _ width: Int) -> String {
        let s = String(v)
        return s.count >= width ? s : String(repeating: "0", count: width - s.count) + s
    }

    /// The wall clock in unix ns.
    public static func nowNs() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
    }
}
