import HummingbirdCore
import Logging
import NIOCore
import NetobsTLS

/// Wraps a Hummingbird child channel so that our libssl `TLSHandler` (when `tls` is set) sits
/// first in every accepted connection's pipeline: the HTTP codec above it only ever sees
/// plaintext. The server context verifies the client certificate and its netobs role during
/// the handshake. Either way a connection whose client stops sending is closed (see `CloseOnInputEnd`).
struct EndpointChildChannel<Base: ServerChildChannel>: ServerChildChannel {
    typealias Value = Base.Value

    let base: Base
    let tls: TLSContext?
    let log: @Sendable (String) -> Void

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        let remote = channel.remoteAddress.map { "\($0)" } ?? "?"
        return channel.eventLoop.makeCompletedFuture {
            let sync = channel.pipeline.syncOperations
            if let tls {
                try sync.addHandler(TLSHandler(context: tls))
                try sync.addHandler(TLSFailureLog(peer: remote, log: log))
            }
            try sync.addHandler(CloseOnInputEnd())
        }.flatMap {
            base.setup(channel: channel, logger: logger)
        }
    }

    func handle(value: Value, logger: Logger) async {
        await base.handle(value: value, logger: logger)
    }
}

extension EndpointChildChannel: HTTPChannelHandler where Base: HTTPChannelHandler {
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

/// Hummingbird allows half-closed connections; a record stream has nothing more to read from
/// its client, so the client's end of input means it went away: close, and the stream's
/// subscription ends now rather than at a later failed write.
final class CloseOnInputEnd: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let e = event as? ChannelEvent, e == .inputClosed {
            context.close(promise: nil)
        }
        context.fireUserInboundEventTriggered(event)
    }
}

@available(*, unavailable)
extension CloseOnInputEnd: Sendable {}
