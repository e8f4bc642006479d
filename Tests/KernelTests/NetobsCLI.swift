import Foundation
import NetobsTestSupport
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

    private let captured: CapturedProcess

    init(_ arguments: [String]) throws {
        captured = try CapturedProcess(Self.binary, arguments)
    }

    var stdoutText: String { captured.stdoutText }
    var stderrText: String { captured.stderrText }

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
        throw AgentRun.AgentFailed(stderr: "netobs \(captured.process.arguments ?? []): no \"\(text)\" in:\n" + stderrText)
    }

    func stop() { captured.stop() }
}
