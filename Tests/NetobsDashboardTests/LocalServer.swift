import Foundation
import Hummingbird
import NetobsDashboard
import Testing

/// The dashboard on 127.0.0.1 (any free port) for the length of a test, fetched with curl: the
/// same server and sockets a browser sees, with no test-only HTTP stack in the build.
enum LocalServer {
    struct Response {
        var status: Int
        var body: String
        var contentType: String?
    }

    static func run(_ data: some DashboardDataSource, options: DashboardOptions = DashboardOptions(),
                    router: Router<BasicRequestContext> = Router(),
                    _ body: (Int) async throws -> Void) async throws {
        let (ports, listening) = AsyncStream.makeStream(of: Int.self)
        let app = DashboardServer.application(data: data, options: options, router: router) { listening.yield($0) }
        let server = Task { try await app.runService(gracefulShutdownSignals: []) }
        defer { server.cancel() }
        var iterator = ports.makeAsyncIterator()
        let port = try #require(await iterator.next())
        try await body(port)
    }

    /// Waits for curl without blocking a thread: the server's handlers need the same small pool.
    static func get(_ port: Int, _ path: String) async throws -> Response {
        let bodyFile = FileManager.default.temporaryDirectory.appendingPathComponent("netobs-dash-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: bodyFile) }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
        p.arguments = ["-sS", "--max-time", "20", "-o", bodyFile.path, "-w", "%{http_code}\n%{content_type}",
                       "http://127.0.0.1:\(port)\(path)"]
        let metaFile = bodyFile.appendingPathExtension("meta")
        defer { try? FileManager.default.removeItem(at: metaFile) }
        _ = FileManager.default.createFile(atPath: metaFile.path, contents: nil)
        p.standardOutput = try FileHandle(forWritingTo: metaFile)
        let _: Int32 = try await withCheckedThrowingContinuation { done in
            p.terminationHandler = { done.resume(returning: $0.terminationStatus) }
            do { try p.run() } catch { done.resume(throwing: error) }
        }
        let meta = (try? String(contentsOf: metaFile, encoding: .utf8)) ?? ""
        let lines = meta.split(separator: "\n", omittingEmptySubsequences: false)
        let body = (try? String(contentsOf: bodyFile, encoding: .utf8)) ?? ""
        return Response(status: Int(lines.first ?? "") ?? 0, body: body,
                        contentType: lines.count > 1 && !lines[1].isEmpty ? String(lines[1]) : nil)
    }
}
