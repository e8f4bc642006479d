import Foundation
import Hummingbird
import NetobsTestSupport
import Testing
@testable import NetobsDashboard

/// The dashboard served on 127.0.0.1 and loaded in headless Chromium: the checks read the DOM
/// as the browser built it (scripts run), and screenshots are kept for people to look at.
@Suite(.serialized) struct DashboardBrowserTests {
    static let artifacts = Chromium.artifacts("dashboard")

    func withServer(_ data: some DashboardDataSource, router: Router<BasicRequestContext> = Router(),
                    _ body: (Int) async throws -> Void) async throws {
        try await LocalServer.run(data, router: router, body)
    }

    static func count(_ needle: String, in text: String) -> Int { text.components(separatedBy: needle).count - 1 }

    @Test func overviewAndPodPageRenderMapChartsAndAnomalies() async throws {
        let chromium = try Chromium()
        defer { chromium.removeProfile() }
        try await withServer(await SyntheticCluster.data()) { port in
            let base = "http://127.0.0.1:\(port)"
            let overview = try await chromium.dumpDOM(base + "/")
            #expect(overview.contains(#"<svg class="service-map""#))
            for pod in ["front-end", "catalogue", "carts", "carts-db", "orders", "payment", "shipping"] {
                #expect(overview.contains(#"data-pod="sock-shop/\#(pod)""#), "map node \(pod)")
            }
            #expect(Self.count(#"<g class="edge "#, in: overview) == 7)
            #expect(Self.count(#"<g class="edge failing""#, in: overview) == 1)
            #expect(Self.count(#"<g class="edge degraded""#, in: overview) == 1)
            #expect(overview.contains(#"<tr class="anomaly" data-pod="sock-shop/carts" data-kind="loss">"#))

            let pod = try await chromium.dumpDOM(base + "/pods/sock-shop/carts")
            #expect(Self.count(#"<svg class="chart""#, in: pod) == PodMetric.allCases.count)
            // The retransmit line has a point per second of the minute of records.
            let retransmits = try #require(pod.firstMatch(of: #/data-series="retransmits" stroke="[^"]+" d="([^"]+)"/#))
            #expect(Self.count("L", in: String(retransmits.1)) == SyntheticCluster.seconds - 1)
            #expect(Self.count(#"<g class="anomaly-band">"#, in: pod) == PodMetric.allCases.count)
            #expect(pod.contains(#"<tr class="anomaly" data-pod="sock-shop/carts" data-kind="loss">"#))

            let uris = try await chromium.dumpDOM(base + "/pods/sock-shop/carts/uris")
            #expect(uris.contains(#"data-series="/cart""#) && uris.contains(#"data-series="/cart/items""#))

            for (name, path, height) in [("overview", "/", 1100), ("pod-carts", "/pods/sock-shop/carts", 1500),
                                         ("pod-carts-uris", "/pods/sock-shop/carts/uris", 900)] {
                let file = Self.artifacts.appendingPathComponent("\(name).png")
                try await chromium.screenshot(base + path, to: file, height: height)
                print("dashboard screenshot: \(file.path)")
            }
        }
    }

    @Test func flowsTableFillsFromTheEventStream() async throws {
        let chromium = try Chromium()
        defer { chromium.removeProfile() }
        // Stands in for the controller's /v1/records: three records as server-sent events,
        // answering only when the page forwarded its filter.
        let router = Router()
        router.get("/v1/records") { request, _ -> Response in
            guard request.headers[.accept] == "text/event-stream", request.uri.queryParameters["pod"] == "carts" else {
                return Response(status: .badRequest)
            }
            let records = [
                #"{"kind":"http","ts_ns":1764000000000000000,"src_pod":"front-end","src_ns":"sock-shop","dst_pod":"carts","dst_ns":"sock-shop","http_request_method":"GET","http_request_uri":"/cart","http_status_code":503,"http_duration":201000000}"#,
                #"{"kind":"tcp","ts_ns":1764000001000000000,"src_pod":"carts","src_ns":"sock-shop","dst_ip":"10.0.0.9","dst_port":6379,"tcp_retransmit":3,"tcp_rtt":40000000}"#,
                #"{"kind":"http","ts_ns":1764000002000000000,"src_pod":"orders","src_ns":"sock-shop","dst_pod":"carts","dst_ns":"sock-shop","http_request_uri":"/<img src=x onerror=alert(1)>","http_status_code":200,"http_duration":5000000}"#,
            ]
            let body = "retry: 600000\n\n" + records.map { "data: \($0)\n\n" }.joined()
            return Response(status: .ok, headers: [.contentType: "text/event-stream", .cacheControl: "no-cache"],
                            body: ResponseBody(byteBuffer: ByteBuffer(string: body)))
        }
        try await withServer(StaticDashboardData(), router: router) { port in
            let url = "http://127.0.0.1:\(port)/flows?pod=carts"
            let dom = try await chromium.dumpDOM(url)
            #expect(Self.count(#"<tr class="flow kind-http">"#, in: dom) == 2)
            #expect(Self.count(#"<tr class="flow kind-tcp">"#, in: dom) == 1)
            #expect(dom.contains("<td>sock-shop/front-end</td><td>sock-shop/carts</td><td>GET  /cart  503  201.0 ms</td>"))
            #expect(dom.contains("<td>10.0.0.9:6379</td>"))
            // The URI arrived as text, not as an element.
            #expect(dom.contains("/&lt;img src=x onerror=alert(1)&gt;"))
            #expect(dom.contains(#"<span id="flow-status">Live: /v1/records?pod=carts</span>"#)
                || dom.contains("Stream closed") || dom.contains("reconnecting"))
            let file = Self.artifacts.appendingPathComponent("flows.png")
            try await chromium.screenshot(url, to: file, height: 600)
            print("dashboard screenshot: \(file.path)")
        }
    }
}
