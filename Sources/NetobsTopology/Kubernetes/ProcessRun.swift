import Foundation

/// Runs a command to its end on a thread of its own (never on the concurrency pool, which a
/// waiting child would block), with its output collected and a time limit.
enum ProcessRun {
    static func run(_ executable: String, _ arguments: [String], environment: [String: String],
                    timeout: Duration) async throws -> (status: Int32, stdout: [UInt8], stderr: [UInt8]) {
        try await withCheckedThrowingContinuation { done in
            Thread.detachNewThread {
                done.resume(with: Result { try runBlocking(executable, arguments, environment: environment, timeout: timeout) })
            }
        }
    }

    private static func runBlocking(_ executable: String, _ arguments: [String], environment: [String: String],
                                    timeout: Duration) throws -> (status: Int32, stdout: [UInt8], stderr: [UInt8]) {
        let child = Process()
        child.executableURL = URL(fileURLWithPath: executable)
        child.arguments = arguments
        child.environment = environment
        child.standardInput = FileHandle.nullDevice
        let out = Pipe(), err = Pipe()
        child.standardOutput = out
        child.standardError = err
        let finished = DispatchSemaphore(value: 0)
        child.terminationHandler = { _ in finished.signal() }
        try child.run()
        // Read both pipes while it runs: a plugin printing much must not block on a full pipe.
        let stdout = Collected(), stderr = Collected()
        let readers = DispatchGroup()
        DispatchQueue.global().async(group: readers) { stdout.data = out.fileHandleForReading.readDataToEndOfFile() }
        DispatchQueue.global().async(group: readers) { stderr.data = err.fileHandleForReading.readDataToEndOfFile() }
        let (seconds, attoseconds) = timeout.components
        if finished.wait(timeout: .now() + .milliseconds(Int(seconds) * 1000 + Int(attoseconds / 1_000_000_000_000_000))) == .timedOut {
            child.terminate()
            finished.wait()
            readers.wait()
            throw TopologyError("\(executable) did not finish within \(seconds) s")
        }
        readers.wait()
        return (child.terminationStatus, Array(stdout.data), Array(stderr.data))
    }

    /// One pipe's output: written by its reader, read after `readers.wait()`.
    private final class Collected: @unchecked Sendable { var data = Data() }
}
