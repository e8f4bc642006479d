#if canImport(Glibc)
import Glibc
#endif

/// Operator-facing controller messages on stderr, one line each (stdout stays free for CLI output).
public struct ControllerLog: Sendable {
    private let sink: @Sendable (String) -> Void

    public init(_ sink: @escaping @Sendable (String) -> Void) { self.sink = sink }

    public static let stderr = ControllerLog { line in
        var text = "netobs controller: " + line + "\n"
        text.withUTF8 { buf in
            var offset = 0
            while offset < buf.count {
                let n = write(2, buf.baseAddress! + offset, buf.count - offset)
                if n < 0 { if errno == EINTR { continue }; return }
                offset += n
            }
        }
    }

    public static let silent = ControllerLog { _ in }

    public func info(_ message: String) { sink("info: " + message) }
    public func warning(_ message: String) { sink("warning: " + message) }
    public func error(_ message: String) { sink("error: " + message) }
}
