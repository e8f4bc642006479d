import Foundation
import Synchronization
import Testing
@testable import NetobsProbes

/// The probe listener over a real socket: known paths answer, the rest are refused clearly.
@Suite("probe server")
struct ProbeServerTests {
    /// One request with curl (HTTP/1.1, as kubelet and Prometheus send), its status and body.
    func get(_ port: Int, _ path: String, method: String = "GET") throws -> (status: Int, body: String) {
        let curl = Process()
        curl.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
        curl.arguments = ["-s", "-X", method, "-o", "-", "-w", "\n%{http_code}", "--max-time", "5",
                          "http://127.0.0.1:\(port)\(path)"]
        // Into a file, not a pipe: reading a pipe while signals arrive can fail with EINTR.
        let file = NSTemporaryDirectory() + "probe-\(UUID().uuidString)"
        FileManager.default.createFile(atPath: file, contents: nil)
        defer { try? FileManager.default.removeItem(atPath: file) }
        curl.standardOutput = FileHandle(forWritingAtPath: file)
        try curl.run()
        curl.waitUntilExit()
        let text = try String(contentsOfFile: file, encoding: .utf8)
        let split = text.split(separator: "\n", omittingEmptySubsequences: false)
        return (Int(split.last ?? "") ?? -1, split.dropLast().joined(separator: "\n"))
    }

    @Test func answersItsRoutesAndRefusesTheRest() throws {
        let healthy = Mutex(true)
        let server = try ProbeServer.start(host: "127.0.0.1", port: 0) { path in
            switch path {
            case "/healthz": .health(healthy.withLock { $0 } ? nil : "last flush 40 s ago")
            case "/metrics": ProbeResponse(status: 200, contentType: PrometheusText.contentType, body: "netobs_x 1\n")
            default: nil
            }
        }.wait()
        defer { try? server.stop().wait() }
        #expect(try get(server.port, "/healthz") == (200, "ok\n"))
        healthy.withLock { $0 = false }
        #expect(try get(server.port, "/healthz?verbose=1") == (503, "last flush 40 s ago\n"))
        #expect(try get(server.port, "/metrics") == (200, "netobs_x 1\n"))
        let missing = try get(server.port, "/v1/records")
        #expect(missing.status == 404 && missing.body.contains("/healthz"))
        #expect(try get(server.port, "/healthz", method: "POST").status == 405)
    }

    @Test func aTakenPortIsAnErrorNotACrash() throws {
        let first = try ProbeServer.start(host: "127.0.0.1", port: 0) { _ in nil }.wait()
        defer { try? first.stop().wait() }
        #expect(throws: (any Error).self) {
            // A port another listener holds: the bind fails (SO_REUSEADDR does not share a listening port).
            _ = try ProbeServer.start(host: "127.0.0.1", port: first.port) { _ in nil }.wait()
        }
    }

    @Test func prometheusLabelsAreEscaped() {
        var p = PrometheusText()
        p.family("netobs_t", "gauge", "help")
        p.sample("netobs_t", [("reason", "a\"b\\c\nd")], "1")
        #expect(p.text == "# HELP netobs_t help\n# TYPE netobs_t gauge\nnetobs_t{reason=\"a\\\"b\\\\c\\nd\"} 1\n")
    }
}
