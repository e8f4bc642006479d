import Hummingbird
import NIOCore
import NetobsController
import NetobsDashboard
import NetobsRecords
import NetobsWire
import Synchronization

/// The endpoint's routes. The record stream reads the same hub as binary-protocol consumers.
struct HTTPRoutes: Sendable {
    let controller: Controller
    let metrics: MetricsStore
    let keepalive: Duration
    let log: @Sendable (String) -> Void
    let openStreams = OpenStreams()
    /// The web dashboard's data; nil when the dashboard is off.
    let dashboard: StaticDashboardData?

    func router() -> Router<ConnectionContext> {
        let router = Router(context: ConnectionContext.self)
        router.get("/healthz") { _, _ in "ok\n" }
        router.get("/metrics") { _, _ in metricsResponse() }
        router.get("/v1/records") { request, context in recordsResponse(request, connection: context.channel) }
        if let dashboard {
            DashboardRoutes.register(on: router, data: dashboard, options: DashboardOptions(recordsStreamPath: "/v1/records"))
        }
        return router
    }

    private func metricsResponse() -> Response {
        var own = ControllerSelfMetrics()
        let counters = controller.counters
        let hub = controller.hub.stats
        own.storedRecords = UInt64(counters.storedRecords)
        own.storedBatches = UInt64(counters.storedBatches)
        own.duplicateBatches = UInt64(counters.duplicateBatches)
        own.subscribers = UInt64(hub.subscribers)
        own.publishedRecords = hub.publishedRecords
        own.deliveredRecords = hub.deliveredRecords
        own.droppedRecords = hub.droppedRecords
        own.unparsedRecords = hub.unparsedRecords
        own.unpublishedRecords = controller.unpublishedRecords
        own.httpStreams = UInt64(openStreams.count)
        let agents = controller.agents.statuses
        own.agentHooks = agents.map { AgentHookReport(node: $0.nodeName, hooks: $0.hooks) }
        own.agents = agents
        own.nowNs = TimeFormat.nowNs()
        own.topology = controller.joiner?.store.health.snapshot ?? []
        own.process = ProcessMetrics.current()
        own.logStore = controller.store.stats
        let text = metrics.exposition(own)
        return Response(status: .ok, headers: [.contentType: PrometheusText.contentType],
                        body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    private func recordsResponse(_ request: Request, connection: any Channel) -> Response {
        let query = request.uri.queryParameters.map { (String($0.key), String($0.value)) }
        let wanted: StreamRequest
        do {
            wanted = try StreamRequest(query: query, accept: request.headers[.accept])
        } catch {
            return Response(status: .badRequest, headers: [.contentType: "text/plain; charset=utf-8"],
                            body: .init(byteBuffer: ByteBuffer(string: "\(error)\n")))
        }
        let stream = RecordStream(hub: controller.hub, filter: wanted.filter)
        // A client that goes away leaves the hub at once, not at the next write that fails.
        connection.closeFuture.whenComplete { _ in stream.finish() }
        let framing = wanted.framing
        let keepalive = self.keepalive
        let openStreams = self.openStreams
        var headers: HTTPFields = [.contentType: StreamFraming.contentType(framing), .cacheControl: "no-cache"]
        if framing == .serverSentEvents { headers[.connection] = "keep-alive" }
        return Response(status: .ok, headers: headers, body: .init { writer in
            openStreams.opened()
            defer { openStreams.closed() }
            let ticker = framing == .serverSentEvents ? Task {
                while !Task.isCancelled {
                    try await Task.sleep(for: keepalive)
                    stream.keepalive()
                }
            } : nil
            defer {
                ticker?.cancel()
                stream.finish()
            }
            // Headers go out now, not with the first record.
            try await writer.write(ByteBuffer())
            for await item in stream.items {
                switch item {
                case .records(let records, let dropped):
                    try await writer.write(ByteBuffer(bytes: StreamFraming.chunk(records, dropped: dropped, framing: framing)))
                case .keepalive:
                    try await writer.write(ByteBuffer(bytes: StreamFraming.keepalive))
                }
            }
            try await writer.finish(nil)
        })
    }
}

/// Hummingbird's basic context plus the connection, whose closing ends a record stream.
struct ConnectionContext: RequestContext {
    var coreContext: CoreRequestContextStorage
    let channel: any Channel

    init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        channel = source.channel
    }
}

/// The number of HTTP record streams open, for /metrics.
final class OpenStreams: Sendable {
    private let value = Mutex(0)
    var count: Int { value.withLock { $0 } }
    func opened() { value.withLock { $0 += 1 } }
    func closed() { value.withLock { $0 -= 1 } }
}
