import Foundation
import NIOCore
import NIOPosix
import NetobsTLS

/// What one end of a connection saw, filled in on its event loop and read by the test.
final class ConnectionLog: @unchecked Sendable {
    private let lock = NSLock()
    private var _peer: PeerIdentity?
    private var _errors: [Error] = []
    private var _received: [UInt8] = []
    let closed: EventLoopPromise<Void>
    let gotData: EventLoopPromise<Void>

    init(eventLoop: EventLoop) {
        closed = eventLoop.makePromise()
        gotData = eventLoop.makePromise()
    }

    var peer: PeerIdentity? { lock.withLock { _peer } }
    var errors: [TLSError] { lock.withLock { _errors.compactMap { $0 as? TLSError } } }
    var received: [UInt8] { lock.withLock { _received } }

    func set(peer: PeerIdentity) { lock.withLock { _peer = peer } }
    func add(error: Error) { lock.withLock { _errors.append(error) } }
    func add(data: ByteBuffer) {
        lock.withLock { _received += data.readableBytesView }
        gotData.succeed()
    }
}

/// The application on top of TLS: records what it sees, optionally echoes (and then closes).
final class RecordingHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    let log: ConnectionLog
    let echo: Bool
    let closeAfterEcho: Bool

    init(log: ConnectionLog, echo: Bool = false, closeAfterEcho: Bool = false) {
        self.log = log
        self.echo = echo
        self.closeAfterEcho = closeAfterEcho
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case .handshakeCompleted(let peer)? = event as? TLSUserEvent { log.set(peer: peer) }
        context.fireUserInboundEventTriggered(event)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let bytes = unwrapInboundIn(data)
        log.add(data: bytes)
        guard echo else { return }
        if closeAfterEcho {
            context.writeAndFlush(wrapOutboundOut(bytes)).assumeIsolated().whenComplete { _ in
                context.close(promise: nil)
            }
        } else {
            context.writeAndFlush(wrapOutboundOut(bytes), promise: nil)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) { log.add(error: error) }

    func channelInactive(context: ChannelHandlerContext) {
        log.closed.succeed()
        log.gotData.fail(ChannelError.eof)
    }
}

/// A TLS echo server on 127.0.0.1 with a fresh port; the log is the (single) accepted connection's.
struct EchoServer {
    let channel: Channel
    let log: ConnectionLog
    var port: Int { channel.localAddress!.port! }

    static func start(_ context: TLSContext, closeAfterEcho: Bool = false) async throws -> EchoServer {
        let group = MultiThreadedEventLoopGroup.singleton
        let log = ConnectionLog(eventLoop: group.next())
        let channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { child in
                child.eventLoop.makeCompletedFuture {
                    try child.pipeline.syncOperations.addHandler(TLSHandler(context: context))
                    try child.pipeline.syncOperations.addHandler(
                        RecordingHandler(log: log, echo: true, closeAfterEcho: closeAfterEcho))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        return EchoServer(channel: channel, log: log)
    }

    func stop() async throws { try await channel.close() }
}

/// Connects a TLS client that writes `message` at once (held until the handshake completes).
func connectClient(_ context: TLSContext, port: Int, serverName: String,
                   message: String) async throws -> (Channel, ConnectionLog) {
    let group = MultiThreadedEventLoopGroup.singleton
    let log = ConnectionLog(eventLoop: group.next())
    let channel = try await ClientBootstrap(group: group)
        .channelInitializer { channel in
            channel.eventLoop.makeCompletedFuture {
                try channel.pipeline.syncOperations.addHandler(TLSHandler(context: context, serverName: serverName))
                try channel.pipeline.syncOperations.addHandler(RecordingHandler(log: log))
            }
        }
        .connect(host: "127.0.0.1", port: port).get()
    channel.writeAndFlush(ByteBuffer(string: message), promise: nil)
    return (channel, log)
}

/// Waits for `future`, failing after `seconds` instead of hanging the suite.
func wait<T: Sendable>(_ future: EventLoopFuture<T>, seconds: Int64 = 10) async throws -> T {
    let promise = future.eventLoop.makePromise(of: T.self)
    let timeout = future.eventLoop.scheduleTask(in: .seconds(seconds)) {
        promise.fail(ChannelError.connectTimeout(.seconds(seconds)))
    }
    future.cascade(to: promise)
    defer { timeout.cancel() }
    return try await promise.futureResult.get()
}
