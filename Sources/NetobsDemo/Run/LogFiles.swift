import Foundation
import NodeLab

/// Reading the log files the demo's processes write.
enum LogFiles {
    static func text(_ path: String) -> String {
        (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
    }

    /// The last `lines` lines of a log, indented, for error messages.
    static func tail(_ path: String, lines: Int = 15) -> String {
        let all = text(path).split(separator: "\n", omittingEmptySubsequences: false)
        let last = all.suffix(lines + 1).joined(separator: "\n    ").trimmingCharacters(in: .whitespacesAndNewlines)
        return last.isEmpty ? "(\(path) is empty)" : "last lines of \(path):\n    " + last
    }

    /// Waits until `needle` occurs `count` times in the log at `path`; fails early when
    /// `process` exits first.
    static func wait(for needle: String, count: Int = 1, in path: String, from process: LabProcess,
                     what: String, timeout: TimeInterval = 20) throws {
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            if text(path).components(separatedBy: needle).count - 1 >= count { return }
            if let ended = process.termination {
                throw DemoError("\(what) ended (\(ended)) before it said '\(needle)'\n" + tail(path))
            }
            if Date() > deadline {
                throw DemoError("\(what) did not say '\(needle)' within \(Int(timeout)) s\n" + tail(path))
            }
            Thread.sleep(forTimeInterval: 0.05)
        }
    }
}
