import Testing
@testable import NetobsHTTP

/// The dashboard as the controller serves it: records published to the hub show on its pages.
@Suite("dashboard on the controller's endpoint", .serialized)
struct DashboardEndpointTests {
    /// A controller serving the dashboard behind mutual TLS.
    static func dashboard(_ pki: FilePKI) async throws -> Running {
        try await Running.start(pki, security: { .mutualTLS(try $0.serverContext(roles: HTTPSecurity.clientRoles)) },
                                configure: { $0.dashboard = true })
    }

    @Test("published records appear on the service map and the pod page, behind mutual TLS")
    func publishedRecordsReachTheDashboard() async throws {
        let pki = try FilePKI()
        let running = try await Self.dashboard(pki)
        defer { Task { await running.stop() } }
        #expect(running.controller.hub.count == 2, "the dashboard subscribes to the hub: flows and anomalies")
        let batch = (0..<20).map { i in Records.http(i % 5 == 0 ? 503 : 200, pod: "front-end", dstPod: "carts-1") }
        running.controller.hub.publish(format: .jsonLines, records: batch)

        var curl = Curl(pki: pki, port: running.http.port, client: try pki.clientFiles(.operator))
        var overview = (exit: Int32(0), status: 0, body: "", error: "")
        let shown = await eventually {
            overview = (try? await curl.get("/")) ?? overview
            return overview.body.contains(#"data-pod="shop/carts-1""#)
        }
        #expect(shown, "\(overview.body.prefix(400))")
        #expect(overview.status == 200)
        #expect(overview.body.contains(#"data-pod="shop/front-end""#))
        #expect(overview.body.contains(#"<g class="edge failing""#), "20% 5xx colours the edge red")
        let pod = try await curl.get("/pods/shop/carts-1")
        #expect(pod.status == 200 && pod.body.contains(#"<svg class="chart""#))

        curl.client = nil
        #expect(try await curl.get("/").status == 0, "no certificate, no dashboard")
    }

    @Test("an anomaly right after a burst of flow records reaches the dashboard through its own subscription")
    func anAnomalyIsNotCrowdedOutByFlows() async throws {
        let pki = try FilePKI()
        let running = try await Self.dashboard(pki)
        defer { Task { await running.stop() } }
        let flows = (0..<50).map { _ in Records.http(200, pod: "front-end", dstPod: "carts-1") }
        for _ in 0..<(2 * RecordStream.queuedBatches) { running.controller.hub.publish(format: .jsonLines, records: flows) }
        let anomaly = #"{"kind":"anomaly","start_ns":5,"end_ns":6,"namespace":"shop","pod":"carts-1","fault":"delay","status":"open"}"#
        running.controller.hub.publish(format: .jsonLines, records: [Array(anomaly.utf8)])

        let curl = Curl(pki: pki, port: running.http.port, client: try pki.clientFiles(.operator))
        var body = ""
        let shown = await eventually {
            body = (try? await curl.get("/"))?.body ?? body
            return body.contains(#"<tr class="anomaly" data-pod="shop/carts-1""#)
        }
        #expect(shown, "\(body.prefix(400))")
    }
}
