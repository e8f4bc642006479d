import Foundation
import Testing
@testable import NetobsHTTP
import NetobsController

/// A real Prometheus server (Debian's package) scrapes the controller over plaintext loopback
/// and must store a series we exported, with its own labels and the target's side by side (the
/// target carries `namespace`, `pod` and `node`, as Kubernetes service discovery gives them).
@Suite("Prometheus scrapes /metrics", .serialized)
struct PrometheusScrapeTests {
    @Test func prometheusStoresOurSeries() async throws {
        let pki = try FilePKI()
        let running = try await Running.start(pki, security: { _ in .plaintextLoopback })
        defer { Task { await running.stop() } }
        for _ in 0..<7 { running.controller.hub.publish(format: .jsonLines, records: [Records.http(503, pod: "scraped-pod")]) }

        let dir = temporaryDirectory("prometheus")
        let config = """
            global: {scrape_interval: 1s, evaluation_interval: 1s}
            scrape_configs:
              - job_name: netobs
                static_configs: [{targets: ["127.0.0.1:\(running.http.port)"],
                                  labels: {namespace: netobs, pod: netobs-controller-0, node: node-9}}]
            """
        try config.write(toFile: "\(dir)/prometheus.yml", atomically: true, encoding: .utf8)
        var prometheus: Child?
        var webPort = 0
        for _ in 0..<5 where prometheus == nil {
            webPort = Int.random(in: 20_000...32_000)
            let child = try Child("/usr/bin/prometheus", ["--config.file=\(dir)/prometheus.yml", "--storage.tsdb.path=\(dir)/data",
                                                          "--web.listen-address=127.0.0.1:\(webPort)"])
            try await Task.sleep(for: .milliseconds(500))
            if child.process.isRunning { prometheus = child } else { child.stop() }
        }
        let server = try #require(prometheus)
        defer { server.stop() }

        let query = #"netobs_pod_http_requests_total{exported_pod="scraped-pod",exported_namespace="shop",status_class="5xx","#
            + #"pod="netobs-controller-0",namespace="netobs"}"#
        let url = "http://127.0.0.1:\(webPort)/api/v1/query?query=" + query.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
        var value: String?
        let stored = await eventually(60) {
            guard let (status, body, _) = try? await Child.run("/usr/bin/curl", ["-sS", "--max-time", "5", url]), status == 0,
                  let json = try? JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any],
                  let data = json["data"] as? [String: Any], let result = data["result"] as? [[String: Any]],
                  let first = result.first, let sample = first["value"] as? [Any] else { return false }
            value = sample.last as? String
            return true
        }
        #expect(stored, "Prometheus log: \(server.errors.suffix(2000))")
        #expect(value == "7")
        // Prometheus reports the scrape as healthy (it parsed every sample).
        let (_, targets, _) = try await Child.run("/usr/bin/curl", ["-sS", "http://127.0.0.1:\(webPort)/api/v1/targets"])
        #expect(targets.contains(#""health":"up""#), "\(targets)")
    }
}
