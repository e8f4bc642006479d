import Foundation

/// Headless Chromium (Debian's `chromium`, installed by scripts/setup.sh) driven from tests:
/// the DOM after scripts ran, and screenshots.
public struct Chromium: Sendable {
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    public let executable: String
    public let profile: URL

    public init() throws {
        let candidates = ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"]
        guard let path = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            throw Failure(description: "no chromium in \(candidates); scripts/setup.sh installs Debian's chromium")
        }
        executable = path
        profile = FileManager.default.temporaryDirectory.appendingPathComponent("netobs-chromium-\(UUID().uuidString)")
    }

    /// The document after `budgetMs` of (virtual) time for scripts and streams.
    public func dumpDOM(_ url: String, budgetMs: Int = 3000) async throws -> String {
        let out = profile.appendingPathExtension("dom.html")
        try await run(["--dump-dom", "--virtual-time-budget=\(budgetMs)", url], stdout: out)
        return try String(contentsOf: out, encoding: .utf8)
    }

    public func screenshot(_ url: String, to file: URL, width: Int = 1400, height: Int = 1000, budgetMs: Int = 2000) async throws {
        try? FileManager.default.removeItem(at: file)
        try await run(["--screenshot=\(file.path)", "--window-size=\(width),\(height)", "--hide-scrollbars",
                       "--virtual-time-budget=\(budgetMs)", url], stdout: nil)
        guard FileManager.default.fileExists(atPath: file.path) else {
            throw Failure(description: "chromium wrote no screenshot at \(file.path)")
        }
    }

    /// Where tests keep screenshots: $NETOBS_ARTIFACTS/NAME, else .build/test-artifacts/NAME in the package.
    public static func artifacts(_ name: String) -> URL {
        let dir = ProcessInfo.processInfo.environment["NETOBS_ARTIFACTS"].map { URL(fileURLWithPath: $0) }
            ?? URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
                .deletingLastPathComponent().appendingPathComponent(".build/test-artifacts")
        let url = dir.appendingPathComponent(name)
        try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    public func removeProfile() {
        try? FileManager.default.removeItem(at: profile)
    }

    private func run(_ arguments: [String], stdout: URL?) async throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: executable)
        // As root Chromium needs --no-sandbox; its own profile keeps parallel runs apart.
        p.arguments = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                       "--no-first-run", "--user-data-dir=\(profile.path)"] + arguments
        if let stdout {
            _ = FileManager.default.createFile(atPath: stdout.path, contents: nil)
            p.standardOutput = try FileHandle(forWritingTo: stdout)
        } else {
            p.standardOutput = FileHandle.nullDevice
        }
        let errors = profile.appendingPathExtension("stderr.txt")
        _ = FileManager.default.createFile(atPath: errors.path, contents: nil)
        p.standardError = try FileHandle(forWritingTo: errors)
        let status: Int32 = try await withCheckedThrowingContinuation { done in
            p.terminationHandler = { done.resume(returning: $0.terminationStatus) }
            do { try p.run() } catch { done.resume(throwing: error) }
            // A hung browser must fail the test, not hang it.
            let watched = UncheckedProcess(process: p)
            Task {
                try? await Task.sleep(for: .seconds(120))
                if watched.process.isRunning { watched.process.terminate() }
            }
        }
        guard status == 0 else {
            let log = (try? String(contentsOf: errors, encoding: .utf8)) ?? ""
            throw Failure(description: "chromium exited with \(status): \(log.suffix(2000))")
        }
    }
}

private struct UncheckedProcess: @unchecked Sendable {
    let process: Process
}
