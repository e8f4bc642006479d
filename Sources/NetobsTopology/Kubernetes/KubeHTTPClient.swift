import NIOCore
import NIOHTTP1
import NIOPosix
import NetobsTLS
import Foundation

/// GET requests to the API server over HTTP/1.1 on our TLS, one connection per request (a
/// list, or a watch that lasts minutes), with the response as a stream of parts.
public final class KubeHTTPClient: Sendable {
    public enum Part: Sendable {
        case head(status: Int)
        case body([UInt8])
    }

    public let endpoint: KubeEndpoint
    private let tls: TLSContext
    private let group: any EventLoopGroup

    public init(endpoint: KubeEndpoint, group: any EventLoopGroup) throws {
        self.endpoint = endpoint
        self.group = group
        switch endpoint.credentials {
        case .clientCertificate(let certificate, let key):
            tls = try TLSContext(configuration: .client(trustRoots: endpoint.certificateAuthority,
                                                        certificateChain: certificate, privateKey: key))
        case .token, .tokenFile:
            tls = try TLSContext(configuration: .clientWithoutCertificate(trustRoots: endpoint.certificateAuthority))
        }
    }

    /// Sends `GET path` and returns the response's parts; the stream ends with the response
    /// (or throws when the connection fails or no byte comes for `idleTimeout`). Ending the
    /// iteration early closes the connection.
    public func get(_ path: String, idleTimeout: TimeAmount) async throws -> AsyncThrowingStream<Part, any Error> {
        let (stream, continuation) = AsyncThrowingStream.makeStream(of: Part.self, throwing: (any Error).self)
        let tls = self.tls
        let serverName = endpoint.host
        let channel = try await ClientBootstrap(group: group)
            .connectTimeout(.seconds(10))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let sync = channel.pipeline.syncOperations
                    try sync.addHandler(TLSHandler(context: tls, serverName: serverName))
                    try sync.addHTTPClientHandlers()
                    try sync.addHandler(IdleStateHandler(readTimeout: idleTimeout))
                    try sync.addHandler(ResponsePartsHandler(continuation))
                }
            }
            .connect(host: endpoint.host, port: endpoint.port).get()
        continuation.onTermination = { _ in channel.close(promise: nil) }

        var headers = HTTPHeaders()
        headers.add(name: "Host", value: endpoint.host.contains(":") ? "[\(endpoint.host)]:\(endpoint.port)" : "\(endpoint.host):\(endpoint.port)")
        headers.add(name: "Accept", value: "application/json")
        headers.add(name: "User-Agent", value: "netobs-controller")
        if let token = try bearerToken() { headers.add(name: "Authorization", value: "Bearer \(token)") }
        let head = HTTPRequestHead(version: .http1_1, method: .GET, uri: path, headers: headers)
        do {
            channel.write(HTTPClientRequestPart.head(head), promise: nil)
            try await channel.writeAndFlush(HTTPClientRequestPart.end(nil)).get()
        } catch let writeError {
            // A failed TLS handshake closes the connection before or while the request goes
            // out; the stream ends with its reason (the server's certificate, say), which says
            // more than the failed write.
            channel.close(promise: nil)
            do { for try await _ in stream {} } catch { throw error }
            throw writeError
        }
        return stream
    }

    /// Collects a whole response (a list).
    public func getAll(_ path: String, timeout: TimeAmount) async throws -> (status: Int, body: [UInt8]) {
        var status = 0
        var body: [UInt8] = []
        for try await part in try await get(path, idleTimeout: timeout) {
            switch part {
            case .head(let code): status = code
            case .body(let bytes): body += bytes
            }
        }
        guard status != 0 else { throw TopologyError("GET \(path): connection closed before a response") }
        return (status, body)
    }

    private func bearerToken() throws -> String? {
        switch endpoint.credentials {
        case .clientCertificate: return nil
        case .token(let token): return token
        case .tokenFile(let path):
            guard let data = FileManager.default.contents(atPath: path) else { throw TopologyError("cannot read token file \(path)") }
            return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        }
    }
}

/// Feeds the response parts into the client's stream, and ends it on close, error or idleness.
private final class ResponsePartsHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPClientResponsePart
    private let continuation: AsyncThrowingStream<KubeHTTPClient.Part, any Error>.Continuation

    init(_ continuation: AsyncThrowingStream<KubeHTTPClient.Part, any Error>.Continuation) {
        self.continuation = continuation
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head): continuation.yield(.head(status: Int(head.status.code)))
        case .body(let buffer): continuation.yield(.body(Array(buffer.readableBytesView)))
        case .end:
            continuation.finish()
            context.close(promise: nil)
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is IdleStateHandler.IdleStateEvent {
            continuation.finish(throwing: TopologyError("no data from the API server for too long"))
            context.close(promise: nil)
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        continuation.finish(throwing: error)
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        continuation.finish(throwing: TopologyError("connection to the API server closed"))
        context.fireChannelInactive()
    }
}
