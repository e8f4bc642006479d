import Foundation

/// The real `netobs-agent --standalone`, run as a child process for the length of a test;
/// its JSON lines are the records under test.
final class AgentRun: @unchecked Sendable {
    private let process = Process()
    private let out = Pipe()
    private let err = Pipe()
    private let lock = NSLock()
    private var stdoutData = Data()
    private var stderrData = Data()

    /// The binary beside the test bundle (`swift build` puts both in the same folder), or
    /// NETOBS_AGENT_BIN.
    static var binary: String {
        if let path = ProcessInfo.processInfo.environment["NETOBS_AGENT_BIN"] { return path }
        var dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        while dir.path != "/" {
            let candidate = dir.appendingPathComponent("netobs-agent")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate.path }
            dir = dir.deletingLastPathComponent()
        }
        return ".build/debug/netobs-agent"
    }

    /// The hook tier under test: `NETOBS_TEST_HOOKS` (scripts/test.sh runs the kernel tests once
    /// per tier the host allows), `auto` when unset.
    static var tier: String { ProcessInfo.processInfo.environment["NETOBS_TEST_HOOKS"] ?? "auto" }

    /// `standalone` false: the caller's arguments say --controller (records go there, not stdout).
    init(interval: String = "200ms", extraArguments: [String] = [], standalone: Bool = true, node: String = "lab-node") throws {
        process.executableURL = URL(fileURLWithPath: Self.binary)
        process.arguments = (standalone ? ["--standalone"] : []) + ["--interval", interval, "--node", node,
                                                                    "--hooks", Self.tier] + extraArguments
        process.standardOutput = out
        process.standardError = err
        out.fileHandleForReading.readabilityHandler = { [weak self] h in self?.append(h.availableData, stderr: false) }
        err.fileHandleForReading.readabilityHandler = { [weak self] h in self?.append(h.availableData, stderr: true) }
        try process.run()
        try waitForStderr("collecting on node", timeout: 20)
    }

    private func append(_ data: Data, stderr: Bool) {
        lock.lock()
        defer { lock.unlock() }
        if stderr { stderrData.append(data) } else { stdoutData.append(data) }
    }

    func send(_ signal: Int32) { kill(process.processIdentifier, signal) }

    var pid: Int32 { process.processIdentifier }

    var stderrText: String { lock.withLock { String(decoding: stderrData, as: UTF8.self) } }

    /// Standalone: waits until a record printed so far contains `text`.
    func waitForStdout(_ text: String, timeout: TimeInterval) throws {
        try waitFor(timeout) { String(decoding: lock.withLock { stdoutData }, as: UTF8.self).contains(text) }
    }

    func waitForStderr(_ text: String, timeout: TimeInterval) throws {
        try waitFor(timeout) { stderrText.contains(text) }
    }

    private func waitFor(_ timeout: TimeInterval, _ condition: () -> Bool) throws {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if condition() { return }
            if !process.isRunning { break }
            Thread.sleep(forTimeInterval: 0.05)
        }
        throw AgentFailed(stderr: stderrText)
    }

    /// Stops the agent (SIGINT makes it flush once more) and returns every record it printed.
    func stop() throws -> [FlowRecord] {
        if process.isRunning {
            process.interrupt()
            let deadline = Date().addingTimeInterval(15)
            while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
            if process.isRunning {
                kill(process.processIdentifier, SIGKILL)
                process.waitUntilExit()
                throw AgentFailed(stderr: "did not stop within 15 s of SIGINT\n" + stderrText)
            }
        }
        out.fileHandleForReading.readabilityHandler = nil
        err.fileHandleForReading.readabilityHandler = nil
        append(out.fileHandleForReading.readDataToEndOfFile(), stderr: false)
        guard process.terminationStatus == 0 else { throw AgentFailed(stderr: stderrText) }
        let text = lock.withLock { String(decoding: stdoutData, as: UTF8.self) }
        return try text.split(separator: "\n").map { line in
            guard let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else {
                throw BadLine(line: String(line))
            }
            return FlowRecord(fields: object)
        }
    }

    struct AgentFailed: Error, CustomStringConvertible {
        let stderr: String
        var description: String { "netobs-agent failed:\n\(stderr)" }
    }

    struct BadLine: Error { let line: String }
}

/// One JSON record of the agent, with typed accessors.
struct FlowRecord: @unchecked Sendable, CustomStringConvertible {
    let fields: [String: Any]

    subscript(_ key: String) -> Any? { fields[key] }
    func int(_ key: String) -> Int { (fields[key] as? NSNumber)?.intValue ?? 0 }
    func uint(_ key: String) -> UInt64 { (fields[key] as? NSNumber)?.uint64Value ?? 0 }
    func string(_ key: String) -> String { fields[key] as? String ?? "" }
    func bool(_ key: String) -> Bool { (fields[key] as? NSNumber)?.boolValue ?? false }
    var kind: String { string("kind") }

    var description: String {
        let data = (try? JSONSerialization.data(withJSONObject: fields, options: [.sortedKeys])) ?? Data()
        return String(decoding: data, as: UTF8.self)
    }
}

extension Array where Element == FlowRecord {
    func sum(_ key: String) -> UInt64 { reduce(0) { $0 + $1.uint(key) } }

    /// TCP or UDP records of the socket at `port` on the local side, in pod netns `netns`.
    func local(kind: String, netns: UInt64, port: Int) -> [FlowRecord] {
        filter { $0.kind == kind && $0.uint("netns") == netns && $0.int("src_port") == port }
    }

    /// Records of sockets in `netns` whose peer port is `port`.
    func toward(kind: String, netns: UInt64, port: Int) -> [FlowRecord] {
        filter { $0.kind == kind && $0.uint("netns") == netns && $0.int("dst_port") == port }
    }

    var transitions: [String] {
        map { "\($0.string("tcp_old_state"))>\($0.string("tcp_new_state"))" }
            .filter { !$0.hasPrefix(">") && $0.split(separator: ">").first != $0.split(separator: ">").last }
    }
}
