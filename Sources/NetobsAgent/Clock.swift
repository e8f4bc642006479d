#if canImport(Glibc)
import Glibc
#endif

/// The kernel programs stamp events with bpf_ktime_get_ns(), i.e. CLOCK_MONOTONIC.
public enum Clock {
    public static func monotonicNs() -> UInt64 { read(CLOCK_MONOTONIC) }
    public static func realtimeNs() -> UInt64 { read(CLOCK_REALTIME) }

    /// unix_ns - monotonic_ns, to convert kernel timestamps for records.
    static func monotonicToUnixOffset() -> Int64 {
        let mono = monotonicNs(), real = realtimeNs(), mono2 = monotonicNs()
        return Int64(bitPattern: real) &- Int64(bitPattern: mono / 2 + mono2 / 2)
    }

    private static func read(_ clock: clockid_t) -> UInt64 {
        var ts = timespec()
        clock_gettime(clock, &ts)
        return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
    }
}
