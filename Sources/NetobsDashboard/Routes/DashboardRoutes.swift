import Hummingbird

/// How the dashboard behaves once mounted.
public struct DashboardOptions: Sendable {
    /// Seconds between reloads of the overview and the charts; nil turns auto-refresh off.
    public var refreshSeconds: Int?
    /// The records endpoint the flows page subscribes to (server-sent events, filter query parameters).
    public var recordsStreamPath: String

    public init(refreshSeconds: Int? = 5, recordsStreamPath: String = "/v1/records") {
        self.refreshSeconds = refreshSeconds
        self.recordsStreamPath = recordsStreamPath
    }
}

/// Mounts the dashboard's pages and assets on a router:
/// `/`, `/pods/{ns}/{pod}`, `/pods/{ns}/{pod}/uris`, `/flows`, `/assets/dashboard.css`, `/assets/flows.js`.
public enum DashboardRoutes {
    public static func register<Context: RequestContext>(on router: Router<Context>, data: some DashboardDataSource,
                                                          options: DashboardOptions = DashboardOptions()) {
        router.get(RouterPath(DashboardPaths.overview)) { _, _ in
            await page {
                async let edges = data.serviceEdges()
                async let pods = data.pods()
                async let anomalies = data.anomalies()
                return try await OverviewPage.render(edges: edges, pods: pods, anomalies: anomalies,
                                                     refreshSeconds: options.refreshSeconds)
            }
        }
        router.get("/pods/:namespace/:pod") { _, context in
            let pod = try podID(context)
            return await page {
                guard let series = try await data.podSeries(pod) else { return nil }
                return PodPage.render(series, refreshSeconds: options.refreshSeconds)
            } missing: { "Pod \(pod)" }
        }
        router.get("/pods/:namespace/:pod/uris") { _, context in
            let pod = try podID(context)
            return await page {
                guard let latency = try await data.uriLatency(pod) else { return nil }
                return URIPage.render(latency, refreshSeconds: options.refreshSeconds)
            } missing: { "Pod \(pod)" }
        }
        router.get(RouterPath(DashboardPaths.flows)) { request, _ in
            var query: [String: String] = [:]
            for (k, v) in request.uri.queryParameters { query[String(k)] = String(v) }
            return HTMLResponse(html: FlowsPage.render(query: query, streamPath: options.recordsStreamPath))
        }
        router.get(RouterPath(DashboardPaths.stylesheet)) { _, _ in
            AssetResponse(body: DashboardCSS.source, contentType: "text/css; charset=utf-8")
        }
        router.get(RouterPath(DashboardPaths.flowsScript)) { _, _ in
            AssetResponse(body: FlowsScript.source, contentType: "text/javascript; charset=utf-8")
        }
    }

    private static func podID(_ context: some RequestContext) throws -> PodID {
        DashboardPaths.podID(namespace: try context.parameters.require("namespace"),
                             name: try context.parameters.require("pod"))
    }

    /// Renders a page; nil from `render` is a 404, a failing data source a 503 saying why.
    private static func page(_ render: () async throws -> String?,
                             missing: () -> String = { "Page" }) async -> HTMLResponse {
        do {
            guard let html = try await render() else {
                return HTMLResponse(html: PageShell.notFound(missing()), status: .notFound)
            }
            return HTMLResponse(html: html)
        } catch {
            let body = "<p class=\"empty\">The dashboard's data source failed: \(Markup.escape("\(error)"))</p>"
            return HTMLResponse(html: PageShell.render(title: "Data unavailable", active: "", refreshSeconds: 5, body: body),
                                status: .serviceUnavailable)
        }
    }
}

struct HTMLResponse: ResponseGenerator {
    var html: String
    var status: HTTPResponse.Status = .ok

    func response(from request: Request, context: some RequestContext) throws -> Response {
        Response(status: status,
                 headers: [.contentType: "text/html; charset=utf-8", .cacheControl: "no-store"],
                 body: ResponseBody(byteBuffer: ByteBuffer(string: html)))
    }
}

struct AssetResponse: ResponseGenerator {
    var body: String
    var contentType: String

    func response(from request: Request, context: some RequestContext) throws -> Response {
        Response(status: .ok, headers: [.contentType: contentType, .cacheControl: "max-age=300"],
                 body: ResponseBody(byteBuffer: ByteBuffer(string: body)))
    }
}
