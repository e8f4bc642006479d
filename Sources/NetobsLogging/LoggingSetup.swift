import Logging
import Synchronization

/// Installs the process's log handler once, from `--log-level` and `--log-format`.
public enum LoggingSetup {
    private static let done = Mutex(false)

    /// Later calls are ignored: swift-log allows one bootstrap per process.
    public static func bootstrap(level: Logger.Level, format: LogFormat) {
        let first = done.withLock { done in
            defer { done = true }
            return !done
        }
        guard first else { return }
        LoggingSystem.bootstrap { label in StderrLogHandler(label: label, level: level, format: format) }
    }
}
