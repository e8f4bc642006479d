#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Foundation

/// How a process ended.
public enum Termination: Sendable, Equatable, CustomStringConvertible {
    case exited(Int32)
    case signaled(Int32)

    /// Shell convention: the exit code, or 128 + signal number.
    public var status: Int32 {
        switch self {
        case .exited(let code): return code
        case .signaled(let signal): return 128 + signal
        }
    }

    public var description: String {
        switch self {
        case .exited(let code): return "exited(\(code))"
        case .signaled(let signal): return "signaled(\(signal))"
        }
    }
}

/// A child process started by the lab (a pod workload or a host command).
///
/// One thread per child waits for it and one per captured pipe drains it, so a chatty child
/// never blocks on a full pipe and `waitUntilExit` needs no polling. The waiter notices the
/// exit with `WNOWAIT` and reaps under the lock that signal senders take, so `signal()` can
/// never hit a recycled pid.
public final class LabProcess: @unchecked Sendable {
    public let pid: Int32
    public let argv: [String]

    private struct State {
        var termination: Termination?
        var stdout = Data()
        var stderr = Data()
        var openStreams = 0
        var exitWaiters: [CheckedContinuation<Termination, Never>] = []
    }
    private let condition = NSCondition()
    private var state = State()   // guarded by `condition`

    /// How long `waitUntilExit` waits for pipes to reach EOF after the process itself exited
    /// (a daemon it left behind may hold them open; teardown kills those).
    private static let drainGrace: TimeInterval = 2

    init(child: SpawnedChild, argv: [String]) {
        self.pid = child.pid
        self.argv = argv
        let streams = [child.stdoutFD, child.stderrFD].compactMap { $0 }
        state.openStreams = streams.count
        if let fd = child.stdoutFD { startDrain(fd: fd, isStdout: true) }
        if let fd = child.stderrFD { startDrain(fd: fd, isStdout: false) }
        Thread.detachNewThread { [self] in self.waitForExit() }
    }

    /// Starts a process outside any pod (host side). `executable` must be an absolute path.
    static func launch(executable: String, argv: [String], environment: [String] = Shell.environment(),
                       stdout: OutputMode, stderr: OutputMode) throws -> LabProcess {
        Log.command(argv)
        let child = try Spawner.spawn(executable: executable, argv: argv, environment: environment,
                                      stdout: stdout, stderr: stderr)
        return LabProcess(child: child, argv: argv)
    }

    // MARK: State

    /// nil while the process runs.
    public var termination: Termination? { locked { $0.termination } }
    /// Exit code (or 128 + signal); nil while running.
    public var exitStatus: Int32? { termination?.status }
    public var isRunning: Bool { termination == nil }

    /// Captured stdout so far (complete once `waitUntilExit` returned).
    public var stdout: Data { locked { $0.stdout } }
    public var stderr: Data { locked { $0.stderr } }
    public var stdoutString: String { String(decoding: stdout, as: UTF8.self) }
    public var stderrString: String { String(decoding: stderr, as: UTF8.self) }

    // MARK: Waiting

    /// Blocks until the process exited and its captured output is drained.
    /// Throws `NodeLabError.timedOut` (leaving the process running) if `timeout` passes first.
    @discardableResult
    public func waitUntilExit(timeout: Duration? = nil) throws -> Termination {
        let deadline = timeout.map { Date().addingTimeInterval($0.seconds) }
        condition.lock()
        defer { condition.unlock() }
        while state.termination == nil {
            if !waitForSignal(until: deadline) && state.termination == nil {
                throw NodeLabError.timedOut(argv: argv, after: timeout ?? .zero,
                                            stdout: String(decoding: state.stdout, as: UTF8.self),
                                            stderr: String(decoding: state.stderr, as: UTF8.self))
            }
        }
        let drainDeadline = Date().addingTimeInterval(Self.drainGrace)
        while state.openStreams > 0 && condition.wait(until: drainDeadline) {}
        return state.termination!
    }

    /// Suspends (without blocking a cooperative thread) until the process exited.
    public func exited() async -> Termination {
        await withCheckedContinuation { continuation in
            let done: Termination? = locked { state in
                if let t = state.termination { return t }
                state.exitWaiters.append(continuation)
                return nil
            }
            if let done { continuation.resume(returning: done) }
        }
    }

    /// Blocks until `text` shows up in stdout (or stderr when `inStderr`), e.g. a server's
    /// "listening" line. Throws if the process exits or `timeout` passes first.
    public func waitForOutput(_ text: String, inStderr: Bool = false, timeout: Duration = .seconds(10)) throws {
        let needle = Data(text.utf8)
        let deadline = Date().addingTimeInterval(timeout.seconds)
        condition.lock()
        defer { condition.unlock() }
        while true {
            let haystack = inStderr ? state.stderr : state.stdout
            if haystack.range(of: needle) != nil { return }
            let streamClosed = state.termination != nil && state.openStreams == 0
            if streamClosed || !condition.wait(until: deadline) {
                let reason = streamClosed ? "the process ended (\(state.termination!))" : "timed out after \(timeout)"
                throw NodeLabError.commandFailed(
                    argv: argv, status: state.termination?.status ?? -1,
                    stdout: String(decoding: state.stdout, as: UTF8.self),
                    stderr: "waiting for output '\(text)': \(reason)\n" + String(decoding: state.stderr, as: UTF8.self))
            }
        }
    }

    // MARK: Signals

    /// Sends `signal` to the process group (the workload and anything it forked) while the
    /// process is not reaped yet. Returns false if it had already exited.
    @discardableResult
    public func signal(_ signal: Int32) -> Bool {
        locked { state in
            guard state.termination == nil else { return false }
            kill(-pid, signal)   // its own process group (POSIX_SPAWN_SETPGROUP)
            kill(pid, signal)    // in case it left the group (setsid)
            return true
        }
    }

    /// SIGTERM, then SIGKILL after `grace`; returns once the process is gone.
    @discardableResult
    public func terminate(grace: Duration = .seconds(2)) -> Termination {
        if signal(SIGTERM), (try? waitUntilExit(timeout: grace)) == nil {
            signal(SIGKILL)
        }
        return (try? waitUntilExit()) ?? .signaled(SIGKILL)
    }

    // MARK: Background threads

    private func waitForExit() {
        var info = siginfo_t()
        // Wait without reaping: the zombie keeps the pid (and its group) from being recycled
        // until we reap below, under the same lock `signal()` holds.
        while waitid(P_PID, id_t(pid), &info, WEXITED | WNOWAIT) != 0 && errno == EINTR {}
        let waiters: [CheckedContinuation<Termination, Never>] = condition.withLock {
            var raw: Int32 = 0
            while waitpid(pid, &raw, 0) < 0 && errno == EINTR {}
            let result = Self.decode(raw)
            state.termination = result
            if result != .exited(0) { Log.info("pid \(pid) \(result): \(Shell.render(argv))") }
            condition.broadcast()
            defer { state.exitWaiters = [] }
            return state.exitWaiters
        }
        let result = termination!
        waiters.forEach { $0.resume(returning: result) }
    }

    private func startDrain(fd: Int32, isStdout: Bool) {
        Thread.detachNewThread { [self] in
            var buffer = [UInt8](repeating: 0, count: 65536)
            while true {
                let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
                if n < 0 && errno == EINTR { continue }
                if n <= 0 { break }
                condition.withLock {
                    if isStdout {
                        state.stdout.append(contentsOf: buffer[0..<n])
                    } else {
                        state.stderr.append(contentsOf: buffer[0..<n])
                    }
                    condition.broadcast()
                }
            }
            close(fd)
            condition.withLock {
                state.openStreams -= 1
                condition.broadcast()
            }
        }
    }

    /// `condition.wait(until:)` with nil meaning "no deadline" (corelibs Foundation traps
    /// converting `Date.distantFuture` to a timespec). Returns false on timeout.
    private func waitForSignal(until deadline: Date?) -> Bool {
        guard let deadline else {
            condition.wait()
            return true
        }
        return condition.wait(until: deadline)
    }

    private func locked<R>(_ body: (inout State) -> R) -> R {
        condition.lock()
        defer { condition.unlock() }
        return body(&state)
    }

    /// wait(2) status word: low 7 bits are the terminating signal, 0 means a normal exit.
    private static func decode(_ raw: Int32) -> Termination {
        let signal = raw & 0x7f
        return signal == 0 ? .exited((raw >> 8) & 0xff) : .signaled(signal)
    }
}

extension Duration {
    var seconds: TimeInterval {
        let (s, atto) = components
        return TimeInterval(s) + TimeInterval(atto) / 1e18
    }
}
