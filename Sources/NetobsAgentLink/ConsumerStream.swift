import NIOCore
import NIOPosix
import NetobsWire

/// A consumer's subscription to the controller's stream; re-subscribes after a reconnect.
/// `onBatch` runs on the client's event loop, one batch at a time.
public final class ConsumerStream: SessionBehaviour, @unchecked Sendable {
    private var client: ReconnectingClient?
    private let filter: Subscribe
    private let onBatch: @Sendable (StreamBatch) -> Void
    private let log: @Sendable (String) -> Void

    public init(endpoint: ControllerEndpoint, filter: Subscribe = Subscribe(), backoff: Backoff = Backoff(),
                eventLoop: EventLoop = MultiThreadedEventLoopGroup.singleton.next(),
                log: @escaping @Sendable (String) -> Void,
                onBatch: @escaping @Sendable (StreamBatch) -> Void) {
        self.filter = filter
        self.onBatch = onBatch
        self.log = log
        client = ReconnectingClient(endpoint: endpoint, hello: Hello(role: .consumer, capabilities: [Capability.recordsJSON]),
                                    backoff: backoff, eventLoop: eventLoop, behaviour: self, log: log)
    }

    public func start() { client?.start() }
    public func stop() async { try? await client?.stop().get() }

    func accepted(_ accept: HelloAccept, channel: Channel) {
        if let frame = try? Frame(.subscribe(filter), correlationId: 2) {
            channel.writeAndFlush(frame, promise: nil)
        }
    }

    func received(_ message: Message, frame: Frame, channel: Channel) {
        switch message {
        case .streamBatch(let batch): onBatch(batch)
        case .error(let e): log("controller refused the subscription: \(e.code) \(e.message)")
        default: break
        }
    }

    func disconnected() {}
}
