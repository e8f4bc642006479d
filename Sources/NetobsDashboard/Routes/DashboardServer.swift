import Hummingbird

/// The dashboard on its own HTTP server: for tests, and to look at records without a controller.
public enum DashboardServer {
    /// An application serving the dashboard (added to `router`, which may hold other routes) on
    /// host:port (port 0: any free port); `onListening` gets the port actually bound. Run it
    /// with `runService()`; cancel that task to stop it.
    public static func application(data: some DashboardDataSource, host: String = "127.0.0.1", port: Int = 0,
                                   options: DashboardOptions = DashboardOptions(),
                                   router: Router<BasicRequestContext> = Router(),
                                   onListening: @escaping @Sendable (Int) async -> Void = { _ in })
        -> some ApplicationProtocol {
        DashboardRoutes.register(on: router, data: data, options: options)
        return Application(router: router, configuration: .init(address: .hostname(host, port: port),
                                                                serverName: "netobs-dashboard"),
                           onServerRunning: { channel in await onListening(channel.localAddress?.port ?? port) })
    }
}
