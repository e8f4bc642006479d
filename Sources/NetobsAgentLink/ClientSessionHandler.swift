import NIOCore
import NetobsTLS
import NetobsWire
import NetobsWireNIO

/// Events of one client connection, delivered on its event loop.
protocol ClientSessionEvents: AnyObject {
    func sessionAccepted(_ accept: HelloAccept, channel: Channel)
    func sessionReceived(_ message: Message, frame: Frame, channel: Channel)
    func sessionFailed(_ reason: String)
    func sessionClosed(channel: Channel)
}

/// The client's end above `FrameHandler`: sends Hello (held by TLS until its handshake), waits
/// for HelloAccept (the real confirmation: in TLS 1.3 a refused client only learns it here),
/// applies the negotiated limit and heartbeat, then hands messages up.
final class ClientSessionHandler: ChannelInboundHandler {
    typealias InboundIn = Frame
    typealias OutboundOut = Frame

    private let hello: Hello
    private weak var events: (any ClientSessionEvents)?
    private var accepted = false
    private var heartbeatTask: RepeatedTask?
    private var lastReadNs: UInt64 = 0
    private var lastWriteNs: UInt64 = 0

    init(hello: Hello, events: any ClientSessionEvents) {
        self.hello = hello
        self.events = events
    }

    func channelActive(context: ChannelHandlerContext) {
        if let frame = try? Frame(.hello(hello), correlationId: 1) {
            context.writeAndFlush(wrapOutboundOut(frame), promise: nil)
        }
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        heartbeatTask?.cancel()
        events?.sessionClosed(channel: context.channel)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        if let tls = error as? TLSError, tls.kind == .uncleanShutdown {
            // The controller went away; the close that follows is what matters.
        } else {
            events?.sessionFailed("\(error)")
        }
        context.close(promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        lastReadNs = MonotonicClock.nowNs()
        let message: Message
        do {
            message = try frame.message()
        } catch {
            events?.sessionFailed("undecodable frame \(frame.type) from the controller: \(error)")
            return
        }
        if !accepted {
            switch message {
            case .helloAccept(let accept):
                accepted = true
                context.triggerUserOutboundEvent(FrameLimitEvent.setMaxPayload(accept.maxPayloadSize), promise: nil)
                startHeartbeats(context, intervalMs: accept.heartbeatIntervalMs)
                events?.sessionAccepted(accept, channel: context.channel)
            case .error(let e):
                events?.sessionFailed("controller refused the session: \(e.code) \(e.message)")
                context.close(promise: nil)
            default:
                events?.sessionFailed("controller sent \(frame.type) before HelloAccept")
                context.close(promise: nil)
            }
            return
        }
        switch message {
        case .heartbeat:
            break
        case .error(let e) where e.code.isFatal:
            events?.sessionFailed("controller closed the session: \(e.code) \(e.message)")
            context.close(promise: nil)
        default:
            events?.sessionReceived(message, frame: frame, channel: context.channel)
        }
    }

    /// A Heartbeat after each quiet interval; close after three intervals without any frame.
    private func startHeartbeats(_ context: ChannelHandlerContext, intervalMs: UInt32) {
        let interval = TimeAmount.milliseconds(Int64(intervalMs))
        lastReadNs = MonotonicClock.nowNs()
        let loopContext = NIOLoopBound(context, eventLoop: context.eventLoop)
        let loopSelf = NIOLoopBound(self, eventLoop: context.eventLoop)
        heartbeatTask = context.eventLoop.scheduleRepeatedTask(initialDelay: interval, delay: interval) { _ in
            let context = loopContext.value
            let handler = loopSelf.value
            let now = MonotonicClock.nowNs()
            if now - handler.lastReadNs > 3 * UInt64(intervalMs) * 1_000_000 {
                handler.events?.sessionFailed("controller silent for three heartbeat intervals")
                context.close(promise: nil)
                return
            }
            if let frame = try? Frame(.heartbeat(Heartbeat(timestampNs: WallClockNs.now()))) {
                context.writeAndFlush(handler.wrapOutboundOut(frame), promise: nil)
            }
        }
    }
}

@available(*, unavailable)
extension ClientSessionHandler: Sendable {}
