import NIOCore
import NIOHTTP1
import NIOPosix

/// What a probe path answers.
public struct ProbeResponse: Sendable, Equatable {
    public var status: Int
    public var contentType: String
    public var body: String

    public init(status: Int, contentType: String = "text/plain; charset=utf-8", body: String) {
        self.status = status
        self.contentType = contentType
        self.body = body
    }

    /// `ok` (200), or 503 with the reason: what kubelet probes read.
    public static func health(_ failure: String?) -> ProbeResponse {
        failure.map { ProbeResponse(status: 503, body: $0 + "\n") } ?? ProbeResponse(status: 200, body: "ok\n")
    }
}

/// A small plain-HTTP listener for kubelet probes and a node-local scrape: GET (or HEAD) of a
/// path the routes know, one answer per connection. It serves no records and takes no input,
/// which is why it is the one endpoint without mutual TLS; bind it to loopback or the node's
/// address.
public final class ProbeServer: Sendable {
    public typealias Routes = @Sendable (_ path: String) -> ProbeResponse?

    private let channel: any Channel
    private let group: MultiThreadedEventLoopGroup
    public let port: Int

    private init(channel: any Channel, group: MultiThreadedEventLoopGroup) {
        self.channel = channel
        self.group = group
        self.port = channel.localAddress?.port ?? 0
    }

    /// Binds `host:port` (port 0: any) on a thread of its own.
    public static func start(host: String, port: Int, routes: @escaping Routes) -> EventLoopFuture<ProbeServer> {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        return ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 64)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                    try channel.pipeline.syncOperations.addHandler(ProbeHandler(routes: routes))
                }
            }
            .bind(host: host, port: port)
            .map { ProbeServer(channel: $0, group: group) }
            .flatMapErrorThrowing { error in
                group.shutdownGracefully { _ in }  // runs on the group's loop: no blocking shutdown
                throw error
            }
    }

    public func stop() -> EventLoopFuture<Void> {
        let group = self.group
        return channel.close().flatMapErrorThrowing { _ in }.always { _ in group.shutdownGracefully { _ in } }
    }
}

/// Answers one request and closes the connection.
final class ProbeHandler: ChannelInboundHandler, Sendable {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    let routes: ProbeServer.Routes
    init(routes: @escaping ProbeServer.Routes) { self.routes = routes }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard case .head(let head) = unwrapInboundIn(data) else { return }
        let path = String(head.uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first ?? "")
        let response: ProbeResponse
        if head.method != .GET && head.method != .HEAD {
            response = ProbeResponse(status: 405, body: "only GET and HEAD\n")
        } else {
            response = routes(path) ?? ProbeResponse(status: 404, body: "no such path: try /healthz, /readyz, /metrics\n")
        }
        var headers = HTTPHeaders()
        headers.add(name: "content-type", value: response.contentType)
        headers.add(name: "content-length", value: String(response.body.utf8.count))
        headers.add(name: "connection", value: "close")
        let status = HTTPResponseStatus(statusCode: response.status)
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: status, headers: headers))),
                      promise: nil)
        if head.method == .GET {
            context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(string: response.body)))),
                          promise: nil)
        }
        let loopBound = NIOLoopBound(context, eventLoop: context.eventLoop)
        context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in loopBound.value.close(promise: nil) }
    }
}
