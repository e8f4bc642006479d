import NIOCore
import NIOPosix
import NetobsTLS
import NetobsWireNIO
import Synchronization

/// The controller's bootstrap listener (PROTOCOL.md §5.1): TLS that authenticates the server only,
/// then one BootstrapRequest answered with a BootstrapResponse or an Error, then close. Apart from
/// the mutual-TLS listener, so that one keeps refusing every client without a certificate in the
/// handshake itself.
public final class BootstrapServer: Sendable {
    public struct Configuration: Sendable {
        public var host: String
        public var port: Int
        /// A server context that asks for no client certificate
        /// (`TLSConfiguration.serverWithoutClientCertificates`), with the controller's certificate.
        public var tls: TLSContext
        public var enrollment: AgentEnrollment
        /// A connection that has not sent its request by then is closed.
        public var requestTimeout: TimeAmount = .seconds(10)
        /// Connections served at once; more are closed at accept (a flood costs handshakes only).
        public var maxConnections = 64

        public init(host: String, port: Int, tls: TLSContext, enrollment: AgentEnrollment) {
            self.host = host
            self.port = port
            self.tls = tls
            self.enrollment = enrollment
        }
    }

    private let channel: Channel
    private let children: ChildTracker
    public var port: Int { channel.localAddress?.port ?? 0 }

    private init(channel: Channel, children: ChildTracker) {
        self.channel = channel
        self.children = children
    }

    public static func start(_ configuration: Configuration, log: ControllerLog = .stderr,
                             group: EventLoopGroup = MultiThreadedEventLoopGroup.singleton) async throws -> BootstrapServer {
        guard !configuration.tls.verifiesPeer, configuration.tls.role == .server else {
            throw TLSError(.configuration, "the bootstrap listener needs a server context that asks for no client certificate")
        }
        let children = ChildTracker()
        let channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { child in
                guard children.all().count < configuration.maxConnections else {
                    log.warning("bootstrap: \(configuration.maxConnections) connections already open; closing \(child.remoteAddress.map { "\($0)" } ?? "?")")
                    return child.close()
                }
                children.add(child)
                return child.eventLoop.makeCompletedFuture {
                    let sync = child.pipeline.syncOperations
                    try sync.addHandler(TLSHandler(context: configuration.tls, handshakeTimeout: configuration.requestTimeout))
                    try sync.addHandler(FrameHandler())
                    try sync.addHandler(BootstrapSessionHandler(enrollment: configuration.enrollment,
                                                                timeout: configuration.requestTimeout, log: log))
                }
            }
            .bind(host: configuration.host, port: configuration.port).get()
        log.info("bootstrap listener on \(channel.localAddress.map { "\($0)" } ?? configuration.host): "
            + "\(configuration.enrollment.tokens.count) tokens, agent certificates valid \(configuration.enrollment.lifetime)s")
        return BootstrapServer(channel: channel, children: children)
    }

    public func stop() async {
        try? await channel.close()
        for child in children.all() { try? await child.close() }
    }
}
