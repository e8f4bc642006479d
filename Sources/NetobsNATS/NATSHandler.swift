import Foundation
import NIOCore
import NetobsTLS

/// Parses what the server sends and answers the protocol's own part: CONNECT after the first
/// INFO (after the TLS handshake when the server requires TLS), PONG to PING.
final class NATSHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer

    private var parser = NATSParser()
    private let options: NATSConnection.Options
    /// Succeeds with the server's INFO once CONNECT was taken (the connection object may not
    /// exist yet when the first INFO arrives).
    private let ready: EventLoopPromise<String>
    private var latestInfo = ""
    private let connection: @Sendable () -> NATSConnection?
    private var connected = false
    private var awaitingHandshake = false
    private var established = false

    init(options: NATSConnection.Options, ready: EventLoopPromise<String>, connection: @escaping @Sendable () -> NATSConnection?) {
        self.options = options
        self.ready = ready
        self.connection = connection
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = unwrapInboundIn(data)
        parser.append(buffer.readBytes(length: buffer.readableBytes) ?? [])
        do {
            while let op = try parser.next() { handle(op, context: context) }
        } catch {
            fail(error, context: context)
        }
    }

    private func handle(_ op: NATSServerOp, context: ChannelHandlerContext) {
        switch op {
        case .info(let text):
            latestInfo = text
            connection()?.info(text)
            guard !connected else { return }
            connected = true
            let info = (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] ?? [:]
            if info["tls_required"] as? Bool == true {
                guard let tls = options.tls else {
                    return fail(NATSProtocolError("the server requires TLS and no TLS context was given"), context: context)
                }
                do {
                    // The handshake goes first; CONNECT waits for it (never in plaintext).
                    try context.pipeline.syncOperations.addHandler(
                        TLSHandler(context: tls, serverName: options.tlsServerName), position: .first)
                    awaitingHandshake = true
                } catch {
                    fail(error, context: context)
                }
            } else {
                guard options.tls == nil else {
                    return fail(NATSProtocolError("the server does not offer TLS and a TLS context was given: no plaintext fallback"),
                                context: context)
                }
                sendConnect(context: context)
            }
        case .ping:
            context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(bytes: NATSClientOps.pong)), promise: nil)
        case .pong:
            // The first PONG answers CONNECT's PING: the server took CONNECT.
            if !established {
                established = true
                ready.succeed(latestInfo)
            } else {
                connection()?.pong()
            }
        case .ok:
            break
        case .error(let text):
            // Authorization and parser errors close the connection on the server side anyway.
            fail(NATSProtocolError("server error: \(text)"), context: context)
        case .message(let message):
            connection()?.received(message)
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if awaitingHandshake, let tls = event as? TLSUserEvent, case .handshakeCompleted = tls {
            awaitingHandshake = false
            sendConnect(context: context)
        }
        context.fireUserInboundEventTriggered(event)
    }

    private func sendConnect(context: ChannelHandlerContext) {
        var object: [String: Any] = ["verbose": false, "pedantic": false, "lang": "swift", "version": "0.1",
                                     "name": options.name, "protocol": 1, "headers": true, "no_responders": true,
                                     "tls_required": options.tls != nil]
        if let user = options.user { object["user"] = user }
        if let password = options.password { object["pass"] = password }
        if let token = options.token { object["auth_token"] = token }
        let json = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
        context.write(wrapOutboundOut(context.channel.allocator.buffer(bytes: NATSClientOps.connect(json: json))), promise: nil)
        context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(bytes: NATSClientOps.ping)), promise: nil)
    }

    typealias OutboundOut = ByteBuffer

    private func fail(_ error: any Error, context: ChannelHandlerContext) {
        ready.fail(error)
        connection()?.closed(error)
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        let error = NATSProtocolError("connection to the NATS server closed")
        ready.fail(error)
        connection()?.closed(error)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        fail(error, context: context)
    }
}
