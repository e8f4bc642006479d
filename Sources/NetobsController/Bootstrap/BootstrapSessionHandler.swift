import NIOCore
import NetobsRecords
import NetobsTLS
import NetobsWire
import NetobsWireNIO

/// One bootstrap connection: a single BootstrapRequest, answered with the signed certificate or
/// an Error, then closed. Anything else (another message, a malformed frame, silence) gets an
/// Error saying what was expected, and a close. The token never reaches a log line.
final class BootstrapSessionHandler: ChannelInboundHandler {
    typealias InboundIn = Frame
    typealias OutboundOut = Frame

    private let enrollment: AgentEnrollment
    private let timeout: TimeAmount
    private let log: ControllerLog
    private var answered = false
    private var deadline: Scheduled<Void>?
    private var peer = "?"

    init(enrollment: AgentEnrollment, timeout: TimeAmount, log: ControllerLog) {
        self.enrollment = enrollment
        self.timeout = timeout
        self.log = log
    }

    func handlerAdded(context: ChannelHandlerContext) {
        peer = context.channel.remoteAddress.map { "\($0)" } ?? "?"
        let timeout = self.timeout
        deadline = context.eventLoop.assumeIsolated().scheduleTask(in: timeout) {
            self.finish(context, .error(ErrorMessage(code: .protocolViolation, message: "no BootstrapRequest within \(timeout)")), to: nil)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        deadline?.cancel()
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        if let wire = error as? WireError {
            log.warning("bootstrap \(peer): \(wire)")
            finish(context, .error(ErrorMessage(wire)), to: nil)
        } else {
            if let tls = error as? TLSError, tls.kind == .uncleanShutdown || tls.kind == .closedDuringHandshake {
                // A client that went away (or a port scan): nothing to report.
            } else {
                log.warning("bootstrap \(peer): \(error)")
            }
            answered = true
            context.close(promise: nil)
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        guard !answered else { return }
        let message: Message
        do {
            message = try frame.message()
        } catch {
            log.warning("bootstrap \(peer): frame type \(frame.type): \(error)")
            finish(context, .error(ErrorMessage(error, failedCorrelationId: frame.correlationId)), to: frame)
            return
        }
        guard case .bootstrapRequest(let request) = message else {
            finish(context, .error(ErrorMessage(code: .protocolViolation,
                                                message: "this is the bootstrap listener: the only request is BootstrapRequest (0x0060), got \(frame.type)")),
                   to: frame)
            return
        }
        let now = Int64(WallClock.nowNs() / 1_000_000_000)
        switch enrollment.enroll(request, now: now) {
        case .success(let (certificate, tokenId)):
            log.info("bootstrap \(peer): issued an agent certificate for node \(request.nodeName) (token \(tokenId), "
                + "serial \(certificate.serialHex), valid until \(RFC3339.format(certificate.notAfter)))")
            finish(context, .bootstrapResponse(BootstrapResponse(certificate: certificate.der)), to: frame)
        case .failure(let refusal):
            // The name comes from an unauthenticated client: escaped, so it cannot forge log lines.
            log.warning("bootstrap \(peer): refused node \"\(TerminalText.escape(String(request.nodeName.prefix(253))))\""
                + (refusal.tokenId.map { " (token \($0))" } ?? "") + ": \(refusal.description)")
            finish(context, .error(ErrorMessage(code: refusal.code, message: Limits.clip(refusal.description, toUTF8Bytes: Limits.text))),
                   to: frame)
        }
    }

    /// Sends the one answer (a reply when `frame` is a request) and closes once it is written.
    private func finish(_ context: ChannelHandlerContext, _ answer: Message, to frame: Frame?) {
        guard !answered else { return }
        answered = true
        deadline?.cancel()
        let isReply = frame.map { $0.correlationId != 0 && !$0.flags.contains(.reply) } ?? false
        guard context.channel.isActive,
              let out = try? Frame(answer, correlationId: isReply ? frame!.correlationId : 0, flags: isReply ? .reply : [])
        else {
            context.close(promise: nil)
            return
        }
        context.writeAndFlush(wrapOutboundOut(out)).assumeIsolated().whenComplete { _ in context.close(promise: nil) }
    }
}

@available(*, unavailable)
extension BootstrapSessionHandler: Sendable {}
