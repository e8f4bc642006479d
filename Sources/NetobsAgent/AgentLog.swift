import Logging

/// Operator-facing messages on stderr (stdout carries the records), through swift-log: the
/// executable installs the handler (`--log-level`, `--log-format`).
public enum AgentLog {
    static let logger = Logger(label: "netobs-agent")

    public static func debug(_ message: String) { logger.debug("\(message)") }
    public static func info(_ message: String) { logger.info("\(message)") }
    public static func warning(_ message: String) { logger.warning("\(message)") }
    public static func error(_ message: String) { logger.error("\(message)") }
}
