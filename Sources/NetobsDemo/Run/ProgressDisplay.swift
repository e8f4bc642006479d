import Foundation
import NodeLab
#if canImport(Glibc)
import Glibc
#endif

/// The terminal view of a run: event lines ("fault started ...") as they happen, plus a
/// status line (phase, scenario time, faults, records, anomalies) redrawn every second on a
/// terminal, or printed every 15 s into a log.
final class ProgressDisplay: @unchecked Sendable {
    struct Status: Sendable {
        var phase = "starting"
        var loadStart: Date?
        var durationNs: Int64 = 0
        var faultsTotal = 0
        var faultsStarted = 0
        var active: [String] = []
    }

    private let status = Locked(Status())
    private let counter: RecordCounter
    private let anomaliesPath: String
    private let isTerminal = isatty(2) == 1
    private let lineShown = Locked(false)
    private var thread: Thread?
    private let stopped = Locked(false)
    private let began = Date()

    init(counter: RecordCounter, anomaliesPath: String) {
        self.counter = counter
        self.anomaliesPath = anomaliesPath
    }

    func update(_ change: (inout Status) -> Void) { status.withLock(change) }

    /// A line that stays (the status line is redrawn under it).
    func event(_ text: String) {
        let elapsed = String(format: "%6.1fs", Date().timeIntervalSince(began))
        write("[\(elapsed)] \(text)\n", replacingStatus: true)
    }

    func start() {
        let thread = Thread { [self] in
            var ticks = 0
            while !stopped.withLock({ $0 }) {
                if isTerminal || ticks % 15 == 0 { drawStatus() }
                ticks += 1
                Thread.sleep(forTimeInterval: 1)
            }
        }
        self.thread = thread
        thread.start()
    }

    func stop() {
        stopped.withLock { $0 = true }
        if isTerminal && lineShown.withLock({ $0 }) { write("\r\u{1B}[K", replacingStatus: false) }
    }

    func statusLine() -> String {
        let s = status.withLock { $0 }
        var parts = ["phase: \(s.phase)"]
        if let start = s.loadStart {
            let t = min(Date().timeIntervalSince(start), Double(s.durationNs) / 1e9)
            parts.append(String(format: "t=%.0fs/%@", t, DurationText.format(s.durationNs)))
        }
        parts.append("faults: \(s.faultsStarted)/\(s.faultsTotal)" + (s.active.isEmpty ? "" : " (now: \(s.active.joined(separator: ", ")))"))
        let records = counter.count()
        parts.append("records: \(records.total) (http \(records.http))")
        if let anomalies = try? String(contentsOfFile: anomaliesPath, encoding: .utf8) {
            parts.append("anomalies: \(anomalies.split(separator: "\n").count)")
        }
        return parts.joined(separator: " | ")
    }

    private func drawStatus() {
        let line = statusLine()
        if isTerminal {
            write("\r\u{1B}[K" + line, replacingStatus: false)
            lineShown.withLock { $0 = true }
        } else {
            write(line + "\n", replacingStatus: false)
        }
    }

    private let writeLock = NSLock()

    private func write(_ text: String, replacingStatus: Bool) {
        writeLock.withLock {
            var out = text
            if replacingStatus && isTerminal && lineShown.withLock({ $0 }) { out = "\r\u{1B}[K" + text }
            FileHandle.standardError.write(Data(out.utf8))
        }
    }
}
