import NIOCore
import NetobsWire

/// Frames over a NIO pipeline, placed right after `TLSHandler`: plaintext bytes below, `Frame`s above.
///
/// Inbound bytes go through NetobsWire's `FrameDecoder`, which checks each header (magic, format,
/// declared length against the current receive limit) before any payload is buffered. A frame-level
/// error (`WireError.isFatal`) is fired through `errorCaught` once; nothing is read after it (the
/// stream is out of sync), and the handler above decides how to report it and close.
/// The receive limit starts at the pre-handshake 64 KiB; raise it with `FrameLimitEvent` (an
/// outbound user event) after HelloAccept.
public final class FrameHandler: ChannelDuplexHandler {
    public typealias InboundIn = ByteBuffer
    public typealias InboundOut = Frame
    public typealias OutboundIn = Frame
    public typealias OutboundOut = ByteBuffer

    private var decoder: FrameDecoder
    private var failed = false

    public init(maxPayload: UInt32 = Limits.handshakePayload) {
        decoder = FrameDecoder(maxPayload: maxPayload)
    }

    public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !failed else { return }
        let bytes = unwrapInboundIn(data)
        decoder.feed(bytes.readableBytesView)
        while true {
            do {
                guard let frame = try decoder.next() else { return }
                context.fireChannelRead(wrapInboundOut(frame))
            } catch {
                failed = true
                context.fireErrorCaught(error)
                return
            }
        }
    }

    public func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let frame = unwrapOutboundIn(data)
        var buffer = context.channel.allocator.buffer(capacity: frame.encodedSize)
        buffer.writeBytes(encode(frame))
        context.write(wrapOutboundOut(buffer), promise: promise)
    }

    public func triggerUserOutboundEvent(context: ChannelHandlerContext, event: Any, promise: EventLoopPromise<Void>?) {
        if case .setMaxPayload(let limit)? = event as? FrameLimitEvent {
            decoder.setMaxPayload(limit)
            promise?.succeed()
        } else {
            context.triggerUserOutboundEvent(event, promise: promise)
        }
    }
}

@available(*, unavailable)
extension FrameHandler: Sendable {}

/// Outbound user event for `FrameHandler`.
public enum FrameLimitEvent: Sendable {
    /// The negotiated receive limit (HelloAccept's `max_payload_size`), from the next frame on.
    case setMaxPayload(UInt32)
}
