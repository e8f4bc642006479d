#if canImport(Glibc)
import Glibc
#endif

/// Operator-facing messages on stderr (stdout carries the records).
public enum AgentLog {
    public static func info(_ message: String) { write("info", message) }
    public static func warning(_ message: String) { write("warning", message) }
    public static func error(_ message: String) { write("error", message) }

    private static func write(_ level: String, _ message: String) {
        FDWriter.write("netobs-agent: \(level): \(message)\n", to: 2)
    }
}
