import Foundation
import NodeLab

/// The `netobs` binary beside `netobs-agent`: one-shot commands and long-running ones
/// (controller, tail) whose output the test reads while they run.
final class NetobsCLI: @unchecked Sendable {
    static var binary: String {
        URL(fileURLWithPath: AgentRun.binary).deletingLastPathComponent().appendingPathComponent("netobs").path
    }

    static func run(_ arguments: [String]) throws -> CommandResult {
        try Shell.run([binary] + arguments, timeout: .seconds(150))
    }

    private let process = Process()
    private let out = Pipe()
    private let err = Pipe()
    private let lock = NSLock()
    private var stdoutData = Data()
    private var stderrData = Data()

    init(_ arguments: [String]) throws {
        process.executableURL = URL(fileURLWithPath: Self.binary)
        process.arguments = arguments
        process.standardOutput = out
        process.standardError = err
        out.fileHandleForReading.readabilityHandler = { [weak self] h in
            let d = h.availableData
            self?.lock.withLock { self?.stdoutData.append(d) }
        }
        err.fileHandleForReading.readabilityHandler = { [weak self] h in
            let d = h.availableData
            self?.lock.withLock { self?.stderrData.append(d) }
        }
        try process.run()
    }

    var stdoutText: String { lock.withLock { String(decoding: stdoutData, as: UTF8.self) } }
    var stderrText: String { lock.withLock { String(decoding: stderrData, as: UTF8.self) } }

    /// The JSON lines printed so far (`netobs tail --json`).
    var records: [FlowRecord] {
        stdoutText.split(separator: "\n").compactMap { line in
            (try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]).map { FlowRecord(fields: $0) }
        }
    }

    func waitForStderr(_ text: String, timeout: TimeInterval) throws {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if stderrText.contains(text) { return }
            Thread.sleep(forTimeInterval: 0.05)
        }
        throw AgentRun.AgentFailed(stderr: "netobs \(process.arguments ?? []): no \"\(text)\" in:\n" + stderrText)
    }

    func stop() {
        guard process.isRunning else { return }
        process.terminate()
        process.waitUntilExit()
    }

    deinit { stop() }
}
