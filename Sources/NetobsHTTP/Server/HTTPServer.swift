import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import NetobsController
import NetobsRecords
import NetobsTLS
import Synchronization

/// The controller's HTTP endpoint: GET /v1/records (the filtered record stream as NDJSON or
/// server-sent events), GET /metrics (Prometheus text), GET /healthz.
public final class HTTPServer: Sendable {
    public struct Configuration: Sendable {
        public var host: String
        public var port: Int
        public var security: HTTPSecurity
        public var metricsLimits = MetricsStore.Limits()
        /// Server-sent-event streams get a comment this often when idle.
        public var keepalive: Duration = .seconds(15)
        /// Serve the web dashboard (/, /pods/..., /flows) beside the API.
        public var dashboard = true

        public init(host: String, port: Int, security: HTTPSecurity) {
            self.host = host
            self.port = port
            self.security = security
        }
    }

    public let metrics: MetricsStore
    public let port: Int
    private let task: Task<Void, any Error>
    private let dashboardFeed: DashboardFeed?

    private init(metrics: MetricsStore, port: Int, task: Task<Void, any Error>, dashboardFeed: DashboardFeed?) {
        self.metrics = metrics
        self.port = port
        self.task = task
        self.dashboardFeed = dashboardFeed
    }

    /// Binds and serves; returns once the socket listens. Feeds the metrics from the hub from now on.
    public static func start(_ configuration: Configuration, controller: Controller,
                             log: @escaping @Sendable (String) -> Void) async throws -> HTTPServer {
        if case .plaintextLoopback = configuration.security { try HTTPSecurity.checkPlaintext(host: configuration.host) }
        let metrics = MetricsStore(limits: configuration.metricsLimits)
        let dashboardFeed = configuration.dashboard ? DashboardFeed(hub: controller.hub) : nil
        let routes = HTTPRoutes(controller: controller, metrics: metrics, keepalive: configuration.keepalive, log: log,
                                dashboard: dashboardFeed?.data)
        let tls: TLSContext? = if case .mutualTLS(let context) = configuration.security { context } else { nil }
        let server = HTTPServerBuilder { responder in
            EndpointChildChannel(base: HTTP1Channel(responder: responder), tls: tls, log: log)
        }
        let started = StartSignal()
        var logger = Logger(label: "netobs.http")
        logger.logLevel = .warning
        let app = Application(router: routes.router(), server: server,
                              configuration: .init(address: .hostname(configuration.host, port: configuration.port),
                                                   serverName: "netobs-controller"),
                              onServerRunning: { channel in started.succeed(channel.localAddress?.port ?? 0) },
                              logger: logger)
        controller.hub.setObserver { views in metrics.add(views) }
        let task = Task {
            do {
                try await app.run()
            } catch {
                started.fail(error)
                throw error
            }
            started.fail(CancellationError())
        }
        let port: Int
        do {
            port = try await started.value()
        } catch {
            controller.hub.setObserver(nil)
            dashboardFeed?.stop()
            task.cancel()
            throw error
        }
        let scheme = if case .plaintextLoopback = configuration.security { "plaintext (loopback only)" } else { "mutual TLS (consumer or operator certificates)" }
        let paths = configuration.dashboard ? "/v1/records /metrics /healthz, dashboard at /" : "/v1/records /metrics /healthz"
        log("HTTP endpoint on \(configuration.host):\(port), \(scheme): \(paths)")
        return HTTPServer(metrics: metrics, port: port, task: task, dashboardFeed: dashboardFeed)
    }

    /// Stops serving; open record streams end.
    public func stop() async {
        dashboardFeed?.stop()
        task.cancel()
        _ = await task.result
    }
}

/// Hands the bound port (or the error that prevented binding) from the server task to `start`.
private final class StartSignal: Sendable {
    private let state = Mutex<(result: Result<Int, any Error>?, waiter: CheckedContinuation<Int, any Error>?)>((nil, nil))

    func succeed(_ port: Int) { complete(.success(port)) }
    func fail(_ error: any Error) { complete(.failure(error)) }

    private func complete(_ result: Result<Int, any Error>) {
        let waiter: CheckedContinuation<Int, any Error>? = state.withLock { s in
            guard s.result == nil else { return nil }
            s.result = result
            defer { s.waiter = nil }
            return s.waiter
        }
        waiter?.resume(with: result)
    }

    func value() async throws -> Int {
        try await withCheckedThrowingContinuation { c in
            let ready: Result<Int, any Error>? = state.withLock { s in
                if s.result == nil { s.waiter = c }
                return s.result
            }
            if let ready { c.resume(with: ready) }
        }
    }
}
