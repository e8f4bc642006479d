import NIOCore
import NIOPosix
import NetobsTLS
import NetobsWire
import NetobsWireNIO

/// One client connection, above `FrameHandler`: Hello/HelloAccept, then per role: FlowBatch →
/// durable log → Ack (agents), Subscribe → StreamBatches (consumers), Heartbeats both ways.
/// A message-level error gets an Error reply and the connection carries on; a frame-level error,
/// a protocol violation or a refused role gets a fatal Error and a close.
final class ControllerSessionHandler: ChannelInboundHandler {
    typealias InboundIn = Frame
    typealias OutboundOut = Frame

    private enum State { case awaitingTLS, awaitingHello, active(Role), closed }

    private let services: ControllerServices
    private var state: State = .awaitingTLS
    private var peer: PeerIdentity?
    private var peerDescription = "?"
    private var helloDeadline: Scheduled<Void>?
    private var certificateExpiry: Scheduled<Void>?
    private var subscription: StreamHub.SubscriberID?
    private var agentName: String?
    /// FlowBatches are stored one after the other, in arrival order.
    private var storeChain: EventLoopFuture<Void>?
    /// A batch of this session could not be stored: the ones behind it are not stored either
    /// (a later batch stored and acknowledged first would acknowledge the missing one with it),
    /// and the session closes so that the agent sends them all again, in order, from its spool.
    private var storeFailed = false
    /// Batches received and not stored yet. Past `maxUnstored` the session stops reading: a slow
    /// disk then holds batches in the agent's spool and the socket, not in the controller's memory
    /// (1,000 agents × a 64-batch window would be a gigabyte).
    private var unstored = 0
    private var readingPaused = false
    static let maxUnstored = 4

    init(services: ControllerServices) { self.services = services }

    func handlerAdded(context: ChannelHandlerContext) {
        peerDescription = context.channel.remoteAddress.map { "\($0)" } ?? "?"
        let timeout = services.helloTimeout
        helloDeadline = context.eventLoop.assumeIsolated().scheduleTask(in: timeout) {
            guard case .active = self.state else {
                self.services.log.warning("\(self.peerDescription): no Hello within \(timeout); closing")
                self.fatal(context, .protocolViolation, "no Hello within \(timeout)")
                return
            }
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        helloDeadline?.cancel()
        certificateExpiry?.cancel()
        if let subscription { services.hub.remove(subscription) }
        // agentName is set once an agent session is accepted; a fatal close (heartbeat timeout,
        // expired certificate) has already moved the state on, but the agent still left.
        if let node = agentName {
            services.control.agents.disconnected(node: node, channel: context.channel)
            services.control.left(node: node)
        }
        state = .closed
        context.fireChannelInactive()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case .handshakeCompleted(let identity)? = event as? TLSUserEvent {
            peer = identity
            peerDescription += " (\(identity))"
            state = .awaitingHello
            closeAtExpiry(context, notAfter: identity.notAfter)
        } else if let idle = event as? IdleStateHandler.IdleStateEvent, case .active = state {
            switch idle {
            case .write:
                let beat = Heartbeat(timestampNs: WallClock.nowNs(), counters: [])
                send(context, .heartbeat(beat))
            case .read:
                services.log.warning("\(peerDescription): silent for three heartbeat intervals; closing")
                fatal(context, .heartbeatTimeout, "no frame for three heartbeat intervals")
            case .all: break
            }
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        if let wire = error as? WireError {
            services.log.warning("\(peerDescription): \(wire); closing")
            fatal(context, wire.errorCode, wire.description)
        } else if let tls = error as? TLSError {
            if tls.kind != .uncleanShutdown { services.log.warning("\(peerDescription): \(tls)") }
        } else {
            services.log.warning("\(peerDescription): \(error)")
            context.close(promise: nil)
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        let message: Message
        do {
            message = try frame.message()
        } catch {
            services.log.warning("\(peerDescription): frame type \(frame.type): \(error)")
            if case .awaitingHello = state {
                fatal(context, .protocolViolation, "expected Hello: \(error)")
            } else {
                reply(context, to: frame, .error(ErrorMessage(error, failedCorrelationId: frame.correlationId)))
            }
            return
        }
        switch state {
        case .awaitingTLS, .closed:
            return
        case .awaitingHello:
            guard case .hello(let hello) = message else {
                fatal(context, .protocolViolation, "the first frame must be Hello, got \(frame.type)")
                return
            }
            handshake(context, hello, frame)
        case .active(let role):
            if SessionRules.operatorOnly(frame.type) && role != .operator {
                services.log.warning("\(peerDescription): \(role) certificate sent operator-only \(frame.type); refused")
                fatal(context, .unauthorized, "only an operator certificate may send message \(frame.type)")
                return
            }
            guard SessionRules.allowed(frame.type, from: role) else {
                fatal(context, .protocolViolation, "message \(frame.type) is not allowed for role \(role)")
                return
            }
            handle(context, message, frame, role: role)
        }
    }

    /// A session lasts no longer than the certificate it was opened with: a short-lived agent
    /// certificate whose renewal is refused (its token revoked) ends its session when it expires.
    /// (A renewing agent reconnects with its new certificate before that.)
    private func closeAtExpiry(_ context: ChannelHandlerContext, notAfter: Int64) {
        let remaining = notAfter - Int64(WallClock.nowNs() / 1_000_000_000)
        guard remaining < 10 * 365 * 86_400 else { return }
        certificateExpiry = context.eventLoop.assumeIsolated().scheduleTask(in: .seconds(max(0, remaining) + 1)) {
            self.services.log.info("\(self.peerDescription): its certificate expired; closing the session")
            self.fatal(context, .unauthorized, "the client certificate expired; reconnect with a valid one")
        }
    }

    private func handshake(_ context: ChannelHandlerContext, _ hello: Hello, _ frame: Frame) {
        guard let certRole = peer?.role, let role = SessionRules.wireRole(certRole) else {
            fatal(context, .unauthorized, "client certificate carries no client role")
            return
        }
        guard hello.role == role else {
            fatal(context, .unauthorized, "Hello says role \(hello.role) but the certificate says \(certRole.rawValue)")
            return
        }
        let answer = Handshake.respond(to: hello, capabilities: SessionRules.capabilities,
                                       serverId: services.serverId, maxPayloadSize: services.maxPayload,
                                       heartbeatIntervalMs: services.heartbeatIntervalMs)
        guard case .helloAccept = answer else {
            reply(context, to: frame, answer)
            context.close(promise: nil)
            return
        }
        if role == .agent, let mismatch = SessionRules.identityMismatch(hello: hello, certificateName: peer?.commonName) {
            services.log.warning("\(peerDescription): \(mismatch); refused")
            fatal(context, .unauthorized, mismatch)
            return
        }
        if role == .agent, !services.store.health.admitsAgents() {
            // Refused before HelloAccept, the agent backs off longer each time (accepted, it would
            // send its spool, fail again and reconnect at once).
            refuse(context, to: frame, .overloaded, services.store.health.refusal)
            return
        }
        helloDeadline?.cancel()
        // An agent is listed before its HelloAccept leaves: one that has its accept is connected.
        let agentNode = role == .agent ? hello.agent?.nodeName : nil
        let agents = services.control.agents
        if let node = agentNode, case .helloAccept(let accept) = answer {
            agentName = node
            if let previous = agents.connected(node: node, identity: peer?.commonName ?? node, channel: context.channel,
                                               capabilities: accept.capabilities, ackedSequence: 0, hooks: hello.hooks) {
                services.log.warning("node \(node) connected again; closing its previous session")
                previous.close(promise: nil)
            }
        }
        reply(context, to: frame, answer)
        context.triggerUserOutboundEvent(FrameLimitEvent.setMaxPayload(services.maxPayload), promise: nil)
        state = .active(role)
        services.log.info("\(peerDescription): \(role) session\(hello.agent.map { " from node \($0.nodeName)" } ?? "")")
        guard let node = agentNode, case .helloAccept(let accept) = answer else { return }
        // What is already durable for it (opening its log may read the disk: not on the event loop).
        let store = services.store
        services.diskPool.runIfActive(eventLoop: context.eventLoop) { try store.highestSequence(agentId: node) }
            .whenSuccess { acked in agents.update(node) { $0.ackedSequence = max($0.ackedSequence, acked) } }
        services.control.joined(node: node, channel: context.channel, capabilities: accept.capabilities)
    }

    private func handle(_ context: ChannelHandlerContext, _ message: Message, _ frame: Frame, role: Role) {
        switch message {
        case .heartbeat(let beat):
            if role == .agent, let node = agentName, !beat.counters.isEmpty {
                services.control.agents.update(node) { $0.counters = beat.counters }
            }
        case .error(let e):
            services.log.warning("\(peerDescription): peer reports error \(e.code): \(e.message)")
            if e.code.isFatal { context.close(promise: nil) }
        case .flowBatch(let batch):
            store(context, batch, frame)
        case .subscribe(let filter):
            if subscription == nil {
                subscription = services.hub.add(channel: context.channel, correlationId: frame.correlationId,
                                                filter: filter)
            } else {
                reply(context, to: frame, .error(ErrorMessage(code: .rejected, message: "one subscription per connection")))
            }
        case .ruleSetAck(let ack):
            if let node = agentName { services.control.ruleSetAck(from: node, ack) }
        case .programStatus(let status):
            if let node = agentName { services.control.programStatus(from: node, status) }
        case .ruleSet(let set):
            pushRules(context, set, frame)
        case .programBundle(let bundle):
            pushProgram(context, bundle, frame)
        case .agentListRequest:
            reply(context, to: frame, .agentList(AgentList(timestampNs: WallClock.nowNs(),
                                                           agents: services.control.agents.statuses)))
        default:
            reply(context, to: frame, .error(ErrorMessage(code: .rejected, message: "\(frame.type) is not accepted by the controller")))
        }
    }

    /// Operator: validate and store off the event loop, then answer.
    private func pushRules(_ context: ChannelHandlerContext, _ set: RuleSet, _ frame: Frame) {
        let control = services.control
        let context = NIOLoopBound(context, eventLoop: context.eventLoop)
        services.diskPool.runIfActive(eventLoop: context.value.eventLoop) {
            try control.pushRules(set)
        }.assumeIsolated().whenComplete { result in
            switch result {
            case .success(let pushed):
                self.reply(context.value, to: frame, .ruleSetAck(RuleSetAck(
                    ruleSetVersion: pushed.set.version, accepted: true,
                    detail: "stored as version \(pushed.set.version), sent to \(pushed.agents) agents")))
            case .failure(let error):
                self.services.log.warning("\(self.peerDescription): \(error)")
                self.reply(context.value, to: frame, .error(Self.errorMessage(error)))
            }
        }
    }

    /// Operator: verify and store off the event loop; the answer comes when the rollout ends.
    private func pushProgram(_ context: ChannelHandlerContext, _ bundle: ProgramBundle, _ frame: Frame) {
        let control = services.control
        let loopContext = NIOLoopBound(context, eventLoop: context.eventLoop)
        let loopSelf = NIOLoopBound(self, eventLoop: context.eventLoop)
        let loop = context.eventLoop
        let answer: @Sendable (Message) -> Void = { message in
            loop.execute { loopSelf.value.reply(loopContext.value, to: frame, message) }
        }
        services.diskPool.runIfActive(eventLoop: loop) {
            try control.pushProgram(bundle, reply: answer)
        }.assumeIsolated().whenFailure { error in
            self.services.log.warning("\(self.peerDescription): \(error)")
            self.reply(loopContext.value, to: frame, .error(Self.errorMessage(error)))
        }
    }

    private static func errorMessage(_ error: Error) -> ErrorMessage {
        if let refused = error as? ControlPlane.Refused {
            return ErrorMessage(code: refused.code, message: Limits.clip(refused.description, toUTF8Bytes: Limits.text))
        }
        return ErrorMessage(code: .internal, message: Limits.clip("\(error)", toUTF8Bytes: Limits.text))
    }

    private func store(_ context: ChannelHandlerContext, _ batch: FlowBatch, _ frame: Frame) {
        guard batch.format == .jsonLines || batch.format == .binaryV1 else {
            reply(context, to: frame, .error(ErrorMessage(code: .rejected, message: "unknown record format \(batch.format.rawValue)")))
            return
        }
        guard batch.agentId == agentName else {
            reply(context, to: frame, .error(ErrorMessage(
                code: .rejected, message: "batch for agent \"\(batch.agentId)\" on the session of node \"\(agentName ?? "")\"")))
            return
        }
        let agents = services.control.agents
        agents.update(batch.agentId) { $0.seenSequence = max($0.seenSequence, batch.sequence) }
        let services = self.services
        let loop = context.eventLoop
        unstored += 1
        if unstored >= Self.maxUnstored && !readingPaused {
            readingPaused = true
            try? context.channel.syncOptions?.setOption(ChannelOptions.autoRead, value: false)
        }
        let previous = storeChain ?? loop.makeSucceededVoidFuture()
        let stored = previous.assumeIsolated().flatMap { () -> EventLoopFuture<AgentLogStore.Outcome> in
            guard !self.storeFailed else { return loop.makeFailedFuture(NotStored.afterEarlierFailure) }
            return services.diskPool.runIfActive(eventLoop: loop) {
                try services.store.append(agentId: batch.agentId, sequence: batch.sequence, format: batch.format,
                                          records: batch.records)
            }
        }
        let context = NIOLoopBound(context, eventLoop: loop)
        stored.whenComplete { _ in self.storedOne(context.value) }
        storeChain = stored.map { outcome in
            if outcome == .stored {
                // Queued for the publishing thread after the Ack and off the store chain (the next
                // batch's fsync need not wait); batches reach the hub in the order they were stored.
                loop.execute { services.publish(batch) }
                services.counters.stored(records: batch.records.count)
                let lost = batch.format == .jsonLines ? batch.records.reduce(UInt64(0)) { $0 + (LossRecord.count($1) ?? 0) } : 0
                agents.update(batch.agentId) { s in
                    s.ackedSequence = max(s.ackedSequence, batch.sequence)
                    s.lastBatchNs = WallClock.nowNs()
                    s.lostRecords += lost
                }
            } else {
                services.counters.duplicate()
            }
            self.reply(context.value, to: frame, .ack(Ack(sequence: batch.sequence, cumulative: true)))
        }.recover { error in
            guard !self.storeFailed else { return }
            self.storeFailed = true
            // The store logs the failure (once per episode) and counts it; the agent is told, and
            // the session closes once that is written.
            let space = (error as? DurableFile.Failure).map { AppendHealth.Failure(errno: $0.code) }
            let full = space == .diskFull || space == .quota
            self.refuse(context.value, to: frame, full ? .overloaded : .internal,
                        "batch \(batch.sequence) not stored (\(error)); not acknowledged: send it again later")
        }.nonisolated()
    }

    private enum NotStored: Error { case afterEarlierFailure }

    /// One batch less waiting to be stored: reading resumes once half the limit is free.
    private func storedOne(_ context: ChannelHandlerContext) {
        unstored -= 1
        guard readingPaused, unstored <= Self.maxUnstored / 2, context.channel.isActive else { return }
        readingPaused = false
        try? context.channel.syncOptions?.setOption(ChannelOptions.autoRead, value: true)
        context.read()
    }

    // MARK: Sending

    private func send(_ context: ChannelHandlerContext, _ message: Message, correlationId: UInt64 = 0,
                      flags: FrameFlags = []) {
        guard context.channel.isActive else { return }
        do {
            let frame = try Frame(message, correlationId: correlationId, flags: flags)
            context.writeAndFlush(wrapOutboundOut(frame), promise: nil)
        } catch {
            services.log.error("cannot encode \(message.type): \(error)")
        }
    }

    private func reply(_ context: ChannelHandlerContext, to frame: Frame, _ message: Message) {
        if frame.correlationId != 0 && !frame.flags.contains(.reply) {
            send(context, message, correlationId: frame.correlationId, flags: .reply)
        } else {
            send(context, message)
        }
    }

    /// Answers `frame` with a request-level Error, then closes once it is written (the agent takes
    /// the close as its cue to back off and send its spool again).
    private func refuse(_ context: ChannelHandlerContext, to frame: Frame, _ code: ErrorCode, _ text: String) {
        helloDeadline?.cancel()
        let message = ErrorMessage(code: code, message: Limits.clip(text, toUTF8Bytes: Limits.text))
        guard context.channel.isActive, let reply = try? Frame(.error(message), correlationId: frame.correlationId,
                                                             flags: frame.correlationId != 0 ? .reply : [])
        else {
            context.close(promise: nil)
            return
        }
        context.writeAndFlush(wrapOutboundOut(reply)).assumeIsolated().whenComplete { _ in
            context.close(promise: nil)
        }
    }

    /// Sends a fatal Error (id 0) and closes once it is written.
    private func fatal(_ context: ChannelHandlerContext, _ code: ErrorCode, _ text: String) {
        if case .closed = state { return }
        state = .closed
        helloDeadline?.cancel()
        guard context.channel.isActive,
              let frame = try? Frame(.error(ErrorMessage(code: code, message: Limits.clip(text, toUTF8Bytes: Limits.text))))
        else {
            context.close(promise: nil)
            return
        }
        context.writeAndFlush(wrapOutboundOut(frame)).assumeIsolated().whenComplete { _ in
            context.close(promise: nil)
        }
    }
}

@available(*, unavailable)
extension ControllerSessionHandler: Sendable {}
