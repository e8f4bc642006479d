#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Foundation

/// The outcome of a command that ran to completion.
public struct CommandResult: Sendable {
    public let argv: [String]
    public let termination: Termination
    public let stdout: String
    public let stderr: String
    /// Exit code, or 128 + signal.
    public var status: Int32 { termination.status }
}

/// Runs host-side commands (`ip`, `iptables`, ...) with a timeout and captured output.
public enum Shell {
    /// Searched after $PATH: test runners and CI often drop the sbin directories where
    /// iproute2 and iptables live.
    static let fallbackPath = ["/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"]

    /// $PATH plus the sbin fallbacks, for lookups here and for `execvp` in children.
    static let searchPath: [String] = {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
        var dirs: [String] = []
        for dir in path.split(separator: ":").map(String.init) + fallbackPath where !dir.isEmpty && !dirs.contains(dir) {
            dirs.append(dir)
        }
        return dirs
    }()

    /// Absolute path of an executable, or nil.
    public static func which(_ name: String) -> String? {
        if name.contains("/") { return access(name, X_OK) == 0 ? name : nil }
        for dir in searchPath {
            let candidate = dir + "/" + name
            if access(candidate, X_OK) == 0 { return candidate }
        }
        return nil
    }

    /// This process's environment with PATH widened to `searchPath`, plus `extra`.
    static func environment(_ extra: [String: String] = [:]) -> [String] {
        var env = ProcessInfo.processInfo.environment
        env["PATH"] = searchPath.joined(separator: ":")
        env.merge(extra) { _, new in new }
        return env.map { "\($0.key)=\($0.value)" }.sorted()
    }

    /// Resolves argv[0] or throws a clear "not installed" error.
    static func resolve(_ name: String) throws -> String {
        guard let path = which(name) else {
            throw NodeLabError.missingTool(name, hint: "not found in \(searchPath.joined(separator: ":"))")
        }
        return path
    }

    /// Runs `argv` to completion on the host; kills it and throws `timedOut` after `timeout`.
    /// A non-zero exit is returned, not thrown (see `check`).
    public static func run(_ argv: [String], timeout: Duration = .seconds(60)) throws -> CommandResult {
        precondition(!argv.isEmpty, "empty command")
        let process = try LabProcess.launch(executable: try resolve(argv[0]), argv: argv,
                                            stdout: .capture, stderr: .capture)
        return try finish(process, timeout: timeout)
    }

    /// Starts `argv` on the host (root netns, the caller's cgroup) and returns at once.
    public static func spawn(_ argv: [String], stdout: OutputMode = .capture, stderr: OutputMode = .capture,
                             environment: [String: String] = [:]) throws -> LabProcess {
        precondition(!argv.isEmpty, "empty command")
        return try LabProcess.launch(executable: try resolve(argv[0]), argv: argv,
                                     environment: Shell.environment(environment), stdout: stdout, stderr: stderr)
    }

    /// Like `run`, but a non-zero exit throws `NodeLabError.commandFailed`.
    @discardableResult
    public static func check(_ argv: [String], timeout: Duration = .seconds(60)) throws -> CommandResult {
        try requireSuccess(run(argv, timeout: timeout))
    }

    static func requireSuccess(_ result: CommandResult) throws -> CommandResult {
        guard result.status == 0 else {
            throw NodeLabError.commandFailed(argv: result.argv, status: result.status,
                                             stdout: result.stdout, stderr: result.stderr)
        }
        return result
    }

    /// Waits for a started process; on timeout kills its group and throws with what it printed.
    static func finish(_ process: LabProcess, timeout: Duration) throws -> CommandResult {
        do {
            let termination = try process.waitUntilExit(timeout: timeout)
            return CommandResult(argv: process.argv, termination: termination,
                                 stdout: process.stdoutString, stderr: process.stderrString)
        } catch NodeLabError.timedOut {
            process.signal(SIGKILL)
            _ = try? process.waitUntilExit(timeout: .seconds(5))
            throw NodeLabError.timedOut(argv: process.argv, after: timeout,
                                        stdout: process.stdoutString, stderr: process.stderrString)
        }
    }

    /// A copy-pasteable rendering of a command line for logs and errors.
    public static func render(_ argv: [String]) -> String {
        argv.map { arg in
            let safe = !arg.isEmpty && arg.allSatisfy { $0.isLetter || $0.isNumber || "-_./:=@%+,".contains($0) }
            return safe ? arg : "'" + arg.replacingOccurrences(of: "'", with: "'\\''") + "'"
        }.joined(separator: " ")
    }
}
