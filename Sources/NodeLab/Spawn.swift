#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Foundation

/// Where a child's stdout or stderr goes.
public enum OutputMode: Sendable, Equatable {
    /// Read into memory; available from `LabProcess.stdout` / `.stderr`.
    case capture
    /// /dev/null.
    case discard
    /// The test process's own stream (handy while debugging a test).
    case inherit
    /// Truncate and write to this file.
    case file(String)
}

/// A started child: its pid and the read ends of the pipes we capture.
struct SpawnedChild {
    let pid: pid_t
    let stdoutFD: Int32?
    let stderrFD: Int32?
}

/// posix_spawn rather than Foundation.Process: we need the child in its own process group
/// (so `terminate()` reaches helpers it forks), every signal reset to default (the lab sets
/// SIGINT/SIGTERM to SIG_IGN in this process and ignored dispositions survive exec), an empty
/// signal mask, and no stray descriptors.
enum Spawner {
    private static let spawnLock = NSLock()

    static func spawn(executable: String, argv: [String], environment: [String],
                      stdout: OutputMode, stderr: OutputMode) throws -> SpawnedChild {
        spawnLock.lock()
        defer { spawnLock.unlock() }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        var attr = posix_spawnattr_t()
        posix_spawnattr_init(&attr)
        defer { posix_spawnattr_destroy(&attr) }

        var emptyMask = sigset_t()
        sigemptyset(&emptyMask)
        posix_spawnattr_setsigmask(&attr, &emptyMask)
        var allSignals = sigset_t()
        sigfillset(&allSignals)
        posix_spawnattr_setsigdefault(&attr, &allSignals)
        posix_spawnattr_setpgroup(&attr, 0)
        posix_spawnattr_setflags(&attr, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP))

        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        var parentEnds: [Int32] = []   // read ends we keep
        var childEnds: [Int32] = []    // write ends we close after spawning
        defer { childEnds.forEach { close($0) } }
        func route(_ mode: OutputMode, to fd: Int32) throws -> Int32? {
            switch mode {
            case .inherit:
                return nil
            case .discard:
                posix_spawn_file_actions_addopen(&actions, fd, "/dev/null", O_WRONLY, 0)
                return nil
            case .file(let path):
                posix_spawn_file_actions_addopen(&actions, fd, path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
                return nil
            case .capture:
                var fds: [Int32] = [-1, -1]
                // Close-on-exec so concurrent spawns never inherit each other's pipes (pipe2 is
                // not imported into Swift; `spawnLock` covers the gap before fcntl).
                guard pipe(&fds) == 0 else { throw NodeLabError.system("pipe", errno: errno) }
                fds.forEach { _ = fcntl($0, F_SETFD, FD_CLOEXEC) }
                parentEnds.append(fds[0])
                childEnds.append(fds[1])
                posix_spawn_file_actions_adddup2(&actions, fds[1], fd)
                return fds[0]
            }
        }
        let outFD: Int32?
        let errFD: Int32?
        do {
            outFD = try route(stdout, to: 1)
            errFD = try route(stderr, to: 2)
        } catch {
            parentEnds.forEach { close($0) }
            throw error
        }

        let cArgv = argv.map { strdup($0) } + [nil]
        let cEnv = environment.map { strdup($0) } + [nil]
        defer {
            cArgv.forEach { free($0) }
            cEnv.forEach { free($0) }
        }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, executable, &actions, &attr, cArgv, cEnv)
        guard rc == 0 else {
            parentEnds.forEach { close($0) }
            throw NodeLabError.spawnFailed(argv: argv, errno: rc)
        }
        return SpawnedChild(pid: pid, stdoutFD: outFD, stderrFD: errFD)
    }
}
