import Foundation

/// Quiet by default; `NODELAB_VERBOSE=1` prints every command (to stderr, so it never mixes
/// with a test's captured stdout). Warnings (cleanup that failed) are always printed.
enum Log {
    static let verbose: Bool = {
        let value = ProcessInfo.processInfo.environment["NODELAB_VERBOSE"] ?? ""
        return !value.isEmpty && value != "0"
    }()

    static func command(_ argv: [String], pod: String? = nil) {
        guard verbose else { return }
        write("[nodelab] \(pod.map { "(pod \($0)) " } ?? "")$ \(Shell.render(argv))")
    }

    static func info(_ message: @autoclosure () -> String) {
        guard verbose else { return }
        write("[nodelab] \(message())")
    }

    static func warning(_ message: String) {
        write("[nodelab] warning: \(message)")
    }

    private static func write(_ line: String) {
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }
}
