import Logging

/// Operator-facing controller messages, one line each (stdout stays free for CLI output). The
/// command logs through swift-log (`--log-level`, `--log-format`); tests pass a sink that
/// collects the lines.
public struct ControllerLog: Sendable {
    private let sink: @Sendable (Logger.Level, String) -> Void

    /// Lines as "level: message", for tests that read them.
    public init(_ sink: @escaping @Sendable (String) -> Void) { self.sink = { sink("\($0.rawValue): \($1)") } }

    public init(_ logger: Logger) { self.sink = { logger.log(level: $0, "\($1)") } }

    public static let stderr = ControllerLog(Logger(label: "netobs controller"))

    public static let silent = ControllerLog { _ in }

    public func debug(_ message: String) { sink(.debug, message) }
    public func info(_ message: String) { sink(.info, message) }
    public func warning(_ message: String) { sink(.warning, message) }
    public func error(_ message: String) { sink(.error, message) }
}
