import Logging
#if canImport(Glibc)
import Glibc
#endif

/// Writes each event as one line on stderr with a single write(2), so lines from several
/// threads never interleave; stdout stays free for records and command output.
public struct StderrLogHandler: LogHandler {
    public var logLevel: Logger.Level
    public var metadata: Logger.Metadata = [:]
    let label: String
    let format: LogFormat

    public init(label: String, level: Logger.Level, format: LogFormat) {
        self.label = label
        self.logLevel = level
        self.format = format
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var merged = metadata
        if let extra = event.metadata { merged.merge(extra) { $1 } }
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        let line = LogLine.render(format: format, label: label, level: event.level, message: "\(event.message)",
                                  metadata: merged, unixNs: UInt64(now.tv_sec) * 1_000_000_000 + UInt64(now.tv_nsec))
        var bytes = Array(line.utf8)
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeMutableBytes { write(2, $0.baseAddress! + offset, $0.count - offset) }
            if n < 0 { if errno == EINTR { continue }; return }
            offset += n
        }
    }
}
