import NIOCore

/// Puts TLS under a NIO pipeline: ciphertext below, plaintext above, driving a `TLSEngine`.
///
/// States: idle → handshaking → active → closing → closed. Plaintext writes made before the
/// handshake completes are held (never sent, not even encrypted) until it does; then
/// `TLSUserEvent.handshakeCompleted` carries the peer's identity. Any failure fires a
/// `TLSError` through `errorCaught` and closes the channel, sending the alert OpenSSL made.
/// Closing an active connection sends close_notify first.
public final class TLSHandler: ChannelDuplexHandler {
    public typealias InboundIn = ByteBuffer
    public typealias InboundOut = ByteBuffer
    public typealias OutboundIn = ByteBuffer
    public typealias OutboundOut = ByteBuffer

    private enum State { case idle, handshaking, active, closing, closed }

    private var state: State = .idle
    private let engine: TLSEngine
    private let handshakeTimeout: TimeAmount?
    private var timeoutTask: Scheduled<Void>?
    private var heldWrites: [(ByteBuffer, EventLoopPromise<Void>?)] = []
    private var heldFlush = false
    private var peerSentCloseNotify = false

    /// `serverName`: clients only, the name or IP the server certificate must carry.
    /// `handshakeTimeout`: the connection is closed if the handshake takes longer.
    public init(context: TLSContext, serverName: String? = nil,
                handshakeTimeout: TimeAmount? = .seconds(10)) throws {
        engine = try TLSEngine(context: context, serverName: serverName)
        self.handshakeTimeout = handshakeTimeout
    }

    // MARK: Lifecycle

    public func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { startHandshake(context) }
    }

    public func channelActive(context: ChannelHandlerContext) {
        context.fireChannelActive()
        startHandshake(context)
    }

    public func channelInactive(context: ChannelHandlerContext) {
        timeoutTask?.cancel()
        switch state {
        case .idle, .handshaking:
            let error = TLSError(.closedDuringHandshake, "connection closed during the TLS handshake")
            state = .closed
            failHeldWrites(error)
            context.fireErrorCaught(error)
        case .active where !peerSentCloseNotify:
            state = .closed
            context.fireErrorCaught(TLSError(.uncleanShutdown, "connection closed without TLS close_notify"))
        default:
            state = .closed
        }
        context.fireChannelInactive()
    }

    private func startHandshake(_ context: ChannelHandlerContext) {
        guard state == .idle else { return }
        state = .handshaking
        if let handshakeTimeout {
            timeoutTask = context.eventLoop.assumeIsolated().scheduleTask(in: handshakeTimeout) {
                guard self.state == .handshaking else { return }
                self.fail(context, TLSError(.handshakeTimeout, "TLS handshake did not finish in \(handshakeTimeout)"))
            }
        }
        advance(context)
    }

    // MARK: Inbound

    public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard state == .handshaking || state == .active || state == .closing else { return }
        engine.receive(unwrapInboundIn(data))
        advance(context)
    }

    public func channelReadComplete(context: ChannelHandlerContext) {
        context.fireChannelReadComplete()
        // The handshake needs reads even when the channel does not read on its own.
        if state == .handshaking { context.read() }
    }

    /// Runs the engine as far as the received bytes allow: handshake, then decrypting.
    private func advance(_ context: ChannelHandlerContext) {
        if state == .handshaking {
            do {
                let event: TLSUserEvent
                switch try engine.handshake() {
                case .inProgress:
                    sendCiphertext(context, flush: true)
                    return
                case .complete(let peer): event = .handshakeCompleted(peer)
                case .completeWithoutPeerCertificate: event = .handshakeCompletedWithoutPeerCertificate
                }
                timeoutTask?.cancel()
                state = .active
                sendCiphertext(context, flush: true)
                context.fireUserInboundEventTriggered(event)
                releaseHeldWrites(context)
            } catch {
                fail(context, error)
                return
            }
        }
        guard state == .active || state == .closing else { return }
        var plaintext = context.channel.allocator.buffer(capacity: 0)
        do {
            readLoop: while true {
                switch try engine.read(into: &plaintext) {
                case .bytes: continue
                case .needMoreCiphertext: break readLoop
                case .closeNotify:
                    peerSentCloseNotify = true
                    break readLoop
                }
            }
        } catch {
            if plaintext.readableBytes > 0 { context.fireChannelRead(wrapInboundOut(plaintext)) }
            fail(context, error)
            return
        }
        if plaintext.readableBytes > 0 { context.fireChannelRead(wrapInboundOut(plaintext)) }
        sendCiphertext(context, flush: true)  // post-handshake messages (key updates)
        if peerSentCloseNotify && state == .active {
            // Answer the peer's close_notify with ours, then close.
            closeCleanly(context, promise: nil)
        }
    }

    // MARK: Outbound

    public func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let plaintext = unwrapOutboundIn(data)
        switch state {
        case .idle, .handshaking:
            heldWrites.append((plaintext, promise))
        case .active:
            encrypt(context, plaintext, promise: promise)
        case .closing, .closed:
            promise?.fail(TLSError(.protocol, "write on a closing TLS connection"))
        }
    }

    public func flush(context: ChannelHandlerContext) {
        switch state {
        case .idle, .handshaking: heldFlush = true
        default: context.flush()
        }
    }

    public func close(context: ChannelHandlerContext, mode: CloseMode, promise: EventLoopPromise<Void>?) {
        guard mode != .input else {
            context.close(mode: mode, promise: promise)
            return
        }
        switch state {
        case .active:
            closeCleanly(context, promise: promise)
        case .idle, .handshaking:
            state = .closed
            timeoutTask?.cancel()
            failHeldWrites(TLSError(.closedDuringHandshake, "connection closed during the TLS handshake"))
            context.close(mode: mode, promise: promise)
        case .closing, .closed:
            context.close(mode: mode, promise: promise)
        }
    }

    private func encrypt(_ context: ChannelHandlerContext, _ plaintext: ByteBuffer, promise: EventLoopPromise<Void>?) {
        do {
            try engine.write(plaintext)
            if let ciphertext = engine.takeCiphertext(allocator: context.channel.allocator) {
                context.write(wrapOutboundOut(ciphertext), promise: promise)
            } else {
                promise?.succeed()
            }
        } catch {
            promise?.fail(error)
            fail(context, error)
        }
    }

    private func releaseHeldWrites(_ context: ChannelHandlerContext) {
        let writes = heldWrites
        heldWrites.removeAll()
        for (plaintext, promise) in writes {
            guard state == .active else {
                promise?.fail(TLSError(.protocol, "TLS connection closed before the write"))
                continue
            }
            encrypt(context, plaintext, promise: promise)
        }
        if heldFlush && state == .active {
            heldFlush = false
            context.flush()
        }
    }

    private func failHeldWrites(_ error: Error) {
        let writes = heldWrites
        heldWrites.removeAll()
        for (_, promise) in writes { promise?.fail(error) }
    }

    // MARK: Ending

    private func sendCiphertext(_ context: ChannelHandlerContext, flush: Bool) {
        guard let ciphertext = engine.takeCiphertext(allocator: context.channel.allocator) else { return }
        if flush {
            context.writeAndFlush(wrapOutboundOut(ciphertext), promise: nil)
        } else {
            context.write(wrapOutboundOut(ciphertext), promise: nil)
        }
    }

    /// close_notify out first, then the transport closes.
    private func closeCleanly(_ context: ChannelHandlerContext, promise: EventLoopPromise<Void>?) {
        state = .closing
        engine.close()
        guard let ciphertext = engine.takeCiphertext(allocator: context.channel.allocator) else {
            context.close(promise: promise)
            return
        }
        context.writeAndFlush(wrapOutboundOut(ciphertext)).assumeIsolated().whenComplete { _ in
            context.close(promise: promise)
        }
    }

    /// Sends OpenSSL's alert (if it made one), reports the error and closes the connection.
    private func fail(_ context: ChannelHandlerContext, _ error: Error) {
        guard state != .closed else { return }
        state = .closed
        timeoutTask?.cancel()
        failHeldWrites(error)
        context.fireErrorCaught(error)
        if let alert = engine.takeCiphertext(allocator: context.channel.allocator) {
            context.writeAndFlush(wrapOutboundOut(alert)).assumeIsolated().whenComplete { _ in
                context.close(promise: nil)
            }
        } else {
            context.close(promise: nil)
        }
    }
}

@available(*, unavailable)
extension TLSHandler: Sendable {}
