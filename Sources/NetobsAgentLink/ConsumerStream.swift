import NIOCore
import NIOPosix
import NetobsWire

/// A consumer's subscription to the controller's stream; re-subscribes after a reconnect.
/// `onBatch` runs on the client's event loop, one batch at a time.
///
/// With `filter.replayLast`, the first subscription asks for that many recent records; once their
/// replay has ended, later re-subscriptions ask for none (they would repeat records already seen).
/// A controller that does not offer `stream.replay` sends no replay: `onReplayRefused` is called.
/// One that does not offer `stream.match` ignores the filter's `match` and time bounds: the
/// consumer must apply them itself (it is told once, in the log).
public final class ConsumerStream: SessionBehaviour, @unchecked Sendable {
    private var client: ReconnectingClient?
    private let filter: Subscribe
    private let onBatch: @Sendable (StreamBatch) -> Void
    private let onReplayRefused: @Sendable () -> Void
    private let log: @Sendable (String) -> Void
    /// On the client's event loop only.
    private var replayEnded = false
    private var toldMatchIgnored = false

    public init(endpoint: ControllerEndpoint, filter: Subscribe = Subscribe(), backoff: Backoff = Backoff(),
                eventLoop: EventLoop = MultiThreadedEventLoopGroup.singleton.next(),
                log: @escaping @Sendable (String) -> Void,
                onReplayRefused: @escaping @Sendable () -> Void = {},
                onBatch: @escaping @Sendable (StreamBatch) -> Void) {
        self.filter = filter
        self.onBatch = onBatch
        self.onReplayRefused = onReplayRefused
        self.log = log
        client = ReconnectingClient(endpoint: endpoint,
                                    hello: Hello(role: .consumer, capabilities: [Capability.recordsJSON, Capability.streamReplay,
                                                                                     Capability.streamMatch]),
                                    backoff: backoff, eventLoop: eventLoop, behaviour: self, log: log)
    }

    public func start() { client?.start() }
    public func stop() async { try? await client?.stop().get() }

    func accepted(_ accept: HelloAccept, channel: Channel) {
        var subscribe = filter
        if replayEnded { subscribe.replayLast = 0 }
        if subscribe.replayLast > 0 && !accept.capabilities.contains(Capability.streamReplay) {
            log("the controller does not replay recent records (no \(Capability.streamReplay) capability); following only")
            subscribe.replayLast = 0
            replayEnded = true
            onReplayRefused()
        }
        let extended = !subscribe.match.isEmpty || subscribe.sinceNs > 0 || subscribe.untilNs > 0
        if extended && !accept.capabilities.contains(Capability.streamMatch) && !toldMatchIgnored {
            toldMatchIgnored = true
            log("the controller applies only the namespace, pod, service, kind, protocol and status filters "
                + "(no \(Capability.streamMatch) capability); the others are applied here")
        }
        if let frame = try? Frame(.subscribe(subscribe), correlationId: 2) {
            channel.writeAndFlush(frame, promise: nil)
        }
    }

    func received(_ message: Message, frame: Frame, channel: Channel) {
        switch message {
        case .streamBatch(let batch):
            if batch.replayEnd { replayEnded = true }
            onBatch(batch)
        case .error(let e): log("controller refused the subscription: \(e.code) \(e.message)")
        default: break
        }
    }

    func disconnected() {}
}
