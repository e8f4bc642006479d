import HummingbirdCore
import Logging
import NIOCore
import NetobsTLS

/// Wraps a Hummingbird child channel so that our libssl `TLSHandler` sits first in every
/// accepted connection's pipeline: the HTTP codec above it only ever sees plaintext. The server
/// context verifies the client certificate and its netobs role during the handshake.
struct OwnTLSChannel<Base: ServerChildChannel>: ServerChildChannel {
    typealias Value = Base.Value

    let base: Base
    let context: TLSContext
    let log: @Sendable (String) -> Void

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        let remote = channel.remoteAddress.map { "\($0)" } ?? "?"
        return channel.eventLoop.makeCompletedFuture {
            try channel.pipeline.syncOperations.addHandler(TLSHandler(context: context))
            try channel.pipeline.syncOperations.addHandler(TLSFailureLog(peer: remote, log: log))
        }.flatMap {
            base.setup(channel: channel, logger: logger)
        }
    }

    func handle(value: Value, logger: Logger) async {
        await base.handle(value: value, logger: logger)
    }
}

extension OwnTLSChannel: HTTPChannelHandler where Base: HTTPChannelHandler {
    var responder: HTTPChannelHandler.Responder { base.responder }
}

/// Logs why a TLS connection failed (a refused certificate, a timeout), then passes it on.
final class TLSFailureLog: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    private let peer: String
    private let log: @Sendable (String) -> Void

    init(peer: String, log: @escaping @Sendable (String) -> Void) {
        self.peer = peer
        self.log = log
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if let tls = error as? TLSError, tls.kind != .uncleanShutdown {
            log("HTTP client \(peer): \(tls)")
        }
        context.fireErrorCaught(error)
    }
}

@available(*, unavailable)
extension TLSFailureLog: Sendable {}
