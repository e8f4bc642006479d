import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The standard `process_*` series of Prometheus client libraries, read from /proc/self at
/// scrape time (Linux): CPU seconds, memory, file descriptors, start time.
public struct ProcessMetrics: Sendable, Equatable {
    public var cpuSeconds: Double
    public var residentBytes: UInt64
    public var virtualBytes: UInt64
    public var openFDs: UInt64
    public var maxFDs: UInt64
    public var startTimeSeconds: Double

    /// nil where /proc cannot be read.
    public static func current() -> ProcessMetrics? {
        guard let stat = try? String(contentsOfFile: "/proc/self/stat", encoding: .utf8),
              let boot = bootTime() else { return nil }
        // Fields after the command name, which is in parentheses and may hold spaces.
        guard let close = stat.lastIndex(of: ")") else { return nil }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        // fields[0] is field 3 (state): field n is fields[n - 3].
        func field(_ n: Int) -> Double? { fields.count > n - 3 ? Double(fields[n - 3]) : nil }
        let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
        let page = Double(sysconf(Int32(_SC_PAGESIZE)))
        guard let utime = field(14), let stime = field(15), let start = field(22), let vsize = field(23), let rss = field(24),
              ticks > 0 else { return nil }
        var limit = rlimit()
        let maxFDs: UInt64 = getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit) == 0 ? UInt64(limit.rlim_cur) : 0
        let fds = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").count) ?? 0
        return ProcessMetrics(cpuSeconds: (utime + stime) / ticks, residentBytes: UInt64(rss * page), virtualBytes: UInt64(vsize),
                              openFDs: UInt64(fds), maxFDs: maxFDs, startTimeSeconds: boot + start / ticks)
    }

    /// The `btime` line of /proc/stat: boot time in unix seconds.
    static func bootTime() -> Double? {
        guard let text = try? String(contentsOfFile: "/proc/stat", encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix("btime ") {
            return Double(line.dropFirst(6).trimmingCharacters(in: .whitespaces))
        }
        return nil
    }

    func render(_ p: inout PrometheusText) {
        let series: [(String, String, String, String)] = [
            ("process_cpu_seconds_total", "counter", "Total user and system CPU time spent in seconds.", PrometheusText.number(cpuSeconds)),
            ("process_resident_memory_bytes", "gauge", "Resident memory size in bytes.", String(residentBytes)),
            ("process_virtual_memory_bytes", "gauge", "Virtual memory size in bytes.", String(virtualBytes)),
            ("process_open_fds", "gauge", "Number of open file descriptors.", String(openFDs)),
            ("process_max_fds", "gauge", "Maximum number of open file descriptors.", String(maxFDs)),
            ("process_start_time_seconds", "gauge", "Start time of the process since unix epoch in seconds.",
             PrometheusText.number(startTimeSeconds)),
        ]
        for (name, type, help, value) in series {
            p.family(name, type, help)
            p.sample(name, [], value)
        }
    }
}
