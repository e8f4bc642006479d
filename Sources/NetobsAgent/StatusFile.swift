import NetobsRecords
#if canImport(Glibc)
import Glibc
#endif

/// A small JSON file the agent rewrites after every flush (`--status-file`): what its liveness
/// and readiness probes read (`netobs-agent --probe`), so the agent needs no listening socket
/// of its own for them.
public enum StatusFile {
    public struct Status: Sendable, Equatable {
        public var unixNs: UInt64
        public var intervalNs: UInt64
        public var records: Int
        public var tier: String
        public var hooksOff: [String]
    }

    static func write(_ status: Status, to path: String) {
        var r = Record()
        r.set("ts_ns", .uint(status.unixNs))
        r.set("interval_ns", .uint(status.intervalNs))
        r.set("records", .uint(UInt64(status.records)))
        r.set("tier", .string(status.tier))
        r.set("hooks_off", .array(status.hooksOff.map { .string($0) }))
        let bytes = JSONLineWriter.bytes(r) + [UInt8(ascii: "\n")]
        let temporary = path + ".tmp"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { return AgentLog.warning("status file \(temporary): \(String(cString: strerror(errno)))") }
        let written = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        close(fd)
        guard written == bytes.count, rename(temporary, path) == 0 else {
            return AgentLog.warning("status file \(path) not updated: \(String(cString: strerror(errno)))")
        }
    }

    /// `--probe`: nil when the file says the agent flushed within `maxAgeNs` (and within three of
    /// its intervals), else why not.
    public static func probe(path: String, maxAgeNs: UInt64, nowUnixNs: UInt64 = Clock.realtimeNs()) -> String? {
        guard let file = fopen(path, "r") else { return "no status file at \(path): the agent has not flushed yet" }
        defer { fclose(file) }
        var buffer = [UInt8](repeating: 0, count: 4096)
        let n = fread(&buffer, 1, buffer.count, file)
        guard let object = try? NativeJSON.object(Array(buffer.prefix(n))), let ts = number(object["ts_ns"]) else {
            return "status file \(path) does not parse"
        }
        var state = AgentHealth.State(startedUnixNs: ts)
        (state.lastFlushUnixNs, state.intervalNs) = (ts, number(object["interval_ns"]) ?? 0)
        return state.liveness(nowUnixNs: nowUnixNs, maxAgeNs: maxAgeNs)
    }

    private static func number(_ value: Any?) -> UInt64? {
        if let v = value as? Int, v >= 0 { return UInt64(v) }
        return value as? UInt64
    }
}
