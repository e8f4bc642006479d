import Foundation

/// A long-running command whose stdout and stderr a test reads while it runs.
public final class CapturedProcess: @unchecked Sendable {
    public let process = Process()
    private let out = Pipe()
    private let err = Pipe()
    private let lock = NSLock()
    private var stdoutData = Data()
    private var stderrData = Data()

    public init(_ executable: String, _ arguments: [String]) throws {
        process.executableURL = URL(fileURLWithPath: executable)
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

    public var stdoutText: String { lock.withLock { String(decoding: stdoutData, as: UTF8.self) } }
    public var stderrText: String { lock.withLock { String(decoding: stderrData, as: UTF8.self) } }

    /// Terminates it if it still runs, and waits for its exit.
    public func stop() {
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
    }

    deinit { stop() }
}
