import Hummingbird
import Testing
@testable import NetobsDashboard

@Suite struct DashboardRoutesTests {
    func withApp(_ data: some DashboardDataSource, options: DashboardOptions = DashboardOptions(),
                 _ body: (Int) async throws -> Void) async throws {
        try await LocalServer.run(data, options: options, body)
    }

    func get(_ port: Int, _ path: String) async throws -> (HTTPResponse.Status, String, String?) {
        let r = try await LocalServer.get(port, path)
        return (HTTPResponse.Status(code: r.status), r.body, r.contentType)
    }

    @Test func overviewShowsMapAnomaliesAndPods() async throws {
        try await withApp(await SyntheticCluster.data()) { port in
            let (status, html, type) = try await get(port, "/")
            #expect(status == .ok)
            #expect(type == "text/html; charset=utf-8")
            #expect(html.contains(#"<meta http-equiv="refresh" content="5">"#))
            #expect(html.contains(#"<svg class="service-map""#))
            for pod in ["front-end", "catalogue", "carts", "carts-db", "orders", "payment", "shipping"] {
                #expect(html.contains(#"data-pod="sock-shop/\#(pod)""#), "node \(pod)")
            }
            #expect(html.components(separatedBy: #"<g class="edge "#).count - 1 == 7)
            #expect(html.contains(#"<tr class="anomaly" data-pod="sock-shop/carts" data-kind="loss">"#))
            #expect(html.contains("<li>retransmits: 48 vs 0 before</li>"))
            #expect(html.contains(#"<a href="/pods/sock-shop/carts/uris">URIs</a>"#))
        }
    }

    @Test func podPageChartsEveryMetricWithTheAnomalyShaded() async throws {
        try await withApp(await SyntheticCluster.data(), options: DashboardOptions(refreshSeconds: nil)) { port in
            let (status, html, _) = try await get(port, "/pods/sock-shop/carts")
            #expect(status == .ok)
            #expect(!html.contains("http-equiv=\"refresh\""))
            #expect(html.components(separatedBy: #"<svg class="chart""#).count - 1 == PodMetric.allCases.count)
            #expect(html.components(separatedBy: #"<g class="anomaly-band">"#).count - 1 == PodMetric.allCases.count)
            #expect(html.contains(">A loss</text>"))
            #expect(html.contains(#"data-series="retransmits""#))
            let (uriStatus, uris, _) = try await get(port, "/pods/sock-shop/carts/uris")
            #expect(uriStatus == .ok)
            #expect(uris.contains(#"data-series="/cart""#))
            #expect(uris.contains(#"<tr class="uri-row alert"><td class="uri">"#))
        }
    }

    @Test func unknownPodIsA404AndNamesAreEscaped() async throws {
        let data = StaticDashboardData()
        await data.add(Anomaly(pod: PodID(namespace: "n", name: "<b>x</b>"), startNs: 1, endNs: 2, kind: "dns",
                               score: 1, uri: "/q?a=<i>", evidence: ["<script>alert(1)</script>"]))
        try await withApp(data) { port in
            let (status, html, _) = try await get(port, "/pods/n/nobody")
            #expect(status == .notFound)
            #expect(html.contains("Pod n/nobody"))
            let (ok, page, _) = try await get(port, "/pods/n/%3Cb%3Ex%3C%2Fb%3E")
            #expect(ok == .ok)
            #expect(page.contains("Pod n/&lt;b&gt;x&lt;/b&gt;"))
            let (_, overview, _) = try await get(port, "/")
            #expect(overview.contains("&lt;script&gt;alert(1)&lt;/script&gt;"))
            #expect(!overview.contains("<script>"))
            #expect(!overview.contains("<b>x</b>"))
            #expect(!overview.contains("<i>"))
        }
    }

    @Test func failingDataSourceIsA503SayingWhy() async throws {
        struct Broken: DashboardDataSource {
            struct Down: Error, CustomStringConvertible { var description: String { "controller <down>" } }
            func serviceEdges() async throws -> [ServiceEdge] { throw Down() }
            func pods() async throws -> [PodSummary] { [] }
            func podSeries(_ pod: PodID) async throws -> PodTimeSeries? { throw Down() }
            func uriLatency(_ pod: PodID) async throws -> PodURILatency? { nil }
            func anomalies() async throws -> [Anomaly] { [] }
        }
        try await withApp(Broken()) { port in
            let (status, html, _) = try await get(port, "/")
            #expect(status == .serviceUnavailable)
            #expect(html.contains("controller &lt;down&gt;"))
        }
    }

    @Test func flowsPageForwardsFiltersAndAssetsAreServed() async throws {
        try await withApp(StaticDashboardData(), options: DashboardOptions(recordsStreamPath: "/v1/records")) { port in
            let (status, html, _) = try await get(port, "/flows?pod=carts&kind=%22http%22&anomalies=1")
            #expect(status == .ok)
            #expect(html.contains(#"<input name="pod" value="carts""#))
            #expect(html.contains(#"<input name="kind" value="&quot;http&quot;""#))
            #expect(html.contains(#"name="anomalies" value="1" checked"#))
            #expect(html.contains(#"data-stream="/v1/records""#))
            #expect(html.contains(#"<script src="/assets/flows.js"></script>"#))
            let (_, css, cssType) = try await get(port, "/assets/dashboard.css")
            #expect(cssType == "text/css; charset=utf-8")
            #expect(css.contains(".anomaly-band rect"))
            let (_, js, jsType) = try await get(port, "/assets/flows.js")
            #expect(jsType == "text/javascript; charset=utf-8")
            #expect(js.contains("new EventSource("))
            #expect(!js.contains("innerHTML"))
        }
    }
}
