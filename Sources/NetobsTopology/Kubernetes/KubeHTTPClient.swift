import NIOCore
import NIOHTTP1
import NIOPosix
import NetobsTLS
import Foundation
import Synchronization

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
    /// The TLS context of the client certificate an exec plugin gave last, kept while it does not change.
    private let execTLS = Mutex<(certificate: [UInt8], key: [UInt8], context: TLSContext)?>(nil)

    public init(endpoint: KubeEndpoint, group: any EventLoopGroup) throws {
        self.endpoint = endpoint
        self.group = group
        switch endpoint.credentials {
        case .clientCertificate(let certificate, let key):
            tls = try TLSContext(configuration: .client(trustRoots: endpoint.certificateAuthority,
                                                        certificateChain: certificate, privateKey: key))
        case .token, .tokenFile, .exec:
            tls = try TLSContext(configuration: .clientWithoutCertificate(trustRoots: endpoint.certificateAuthority))
        }
    }

    /// How one request authenticates: its TLS context, bearer token, and the exec credential
    /// they came from (to drop when the server refuses it).
    private struct Authentication {
        var tls: TLSContext
        var token: String?
        var exec: (plugin: KubeExecPlugin, credential: KubeExecPlugin.Credential)?
    }

    private func authentication() async throws -> Authentication {
        switch endpoint.credentials {
        case .clientCertificate: return Authentication(tls: tls)
        case .token(let token): return Authentication(tls: tls, token: token)
        case .tokenFile(let path):
            guard let data = FileManager.default.contents(atPath: path) else { throw TopologyError("cannot read token file \(path)") }
            return Authentication(tls: tls, token: String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
        case .exec(let plugin):
            let credential = try await plugin.credential()
            var context = tls
            if let certificate = credential.clientCertificate, let key = credential.clientKey {
                context = try execTLS.withLock { cache in
                    if let cache, cache.certificate == certificate, cache.key == key { return cache.context }
                    let made = try TLSContext(configuration: .client(trustRoots: endpoint.certificateAuthority,
                                                                     certificateChain: .bytes(certificate), privateKey: .bytes(key)))
                    cache = (certificate, key, made)
                    return made
                }
            }
            return Authentication(tls: context, token: credential.token, exec: (plugin, credential))
        }
    }

    /// Sends `GET path` and returns the response's parts; the stream ends with the response
    /// (or throws when the connection fails or no byte comes for `idleTimeout`). Ending the
    /// iteration early closes the connection. An HTTP 401 drops the exec credential it used
    /// before the stream shows it, so the next request runs the plugin again.
    public func get(_ path: String, idleTimeout: TimeAmount) async throws -> AsyncThrowingStream<Part, any Error> {
        let (stream, continuation) = AsyncThrowingStream.makeStream(of: Part.self, throwing: (any Error).self)
        let auth = try await authentication()
        let tls = auth.tls
        let unauthorized: (@Sendable () -> Void)?
        if let (plugin, credential) = auth.exec {
            unauthorized = { plugin.invalidate(credential) }
        } else {
            unauthorized = nil
        }
        let serverName = endpoint.host
        let channel = try await ClientBootstrap(group: group)
            .connectTimeout(.seconds(10))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let sync = channel.pipeline.syncOperations
                    try sync.addHandler(TLSHandler(context: tls, serverName: serverName))
                    try sync.addHTTPClientHandlers()
                    try sync.addHandler(IdleStateHandler(readTimeout: idleTimeout))
                    try sync.addHandler(ResponsePartsHandler(continuation, onUnauthorized: unauthorized))
                }
            }
            .connect(host: endpoint.host, port: endpoint.port).get()
        continuation.onTermination = { _ in channel.close(promise: nil) }

        var headers = HTTPHeaders()
        headers.add(name: "Host", value: endpoint.host.contains(":") ? "[\(endpoint.host)]:\(endpoint.port)" : "\(endpoint.host):\(endpoint.port)")
        headers.add(name: "Accept", value: "application/json")
        headers.add(name: "User-Agent", value: "netobs-controller")
        if let token = auth.token { headers.add(name: "Authorization", value: "Bearer \(token)") }
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

    /// Collects a whole response (a list). A 401 with an exec plugin's credential is tried once
    /// more, with a credential from a new run.
    public func getAll(_ path: String, timeout: TimeAmount) async throws -> (status: Int, body: [UInt8]) {
        let answer = try await getAllOnce(path, timeout: timeout)
        if answer.status == 401, case .exec = endpoint.credentials { return try await getAllOnce(path, timeout: timeout) }
        return answer
    }

    private func getAllOnce(_ path: String, timeout: TimeAmount) async throws -> (status: Int, body: [UInt8]) {
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

}

/// Feeds the response parts into the client's stream, and ends it on close, error or idleness.
private final class ResponsePartsHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPClientResponsePart
    private let continuation: AsyncThrowingStream<KubeHTTPClient.Part, any Error>.Continuation
    private let onUnauthorized: (@Sendable () -> Void)?

    init(_ continuation: AsyncThrowingStream<KubeHTTPClient.Part, any Error>.Continuation, onUnauthorized: (@Sendable () -> Void)?) {
        self.continuation = continuation
        self.onUnauthorized = onUnauthorized
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            if head.status.code == 401 { onUnauthorized?() }
            continuation.yield(.head(status: Int(head.status.code)))
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
