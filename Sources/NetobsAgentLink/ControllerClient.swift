import NIOCore
import NIOPosix
import NetobsTLS
import NetobsWire
import NetobsWireNIO

/// Where and how to reach the controller.
public struct ControllerEndpoint: Sendable {
    public var host: String
    public var port: Int
    /// Where each new connection takes its TLS context from (one fixed context, or an agent's
    /// renewed certificates).
    public let credentials: TLSContextSlot
    /// The name the controller's certificate must carry (default: `host`).
    public var serverName: String

    /// The context of the next connection; nil while a bootstrapping agent has no certificate.
    public var tls: TLSContext? { credentials.current }

    public init(host: String, port: Int, tls: TLSContext, serverName: String? = nil) {
        self.init(host: host, port: port, credentials: TLSContextSlot(tls), serverName: serverName)
    }

    public init(host: String, port: Int, credentials: TLSContextSlot, serverName: String? = nil) {
        self.host = host
        self.port = port
        self.credentials = credentials
        self.serverName = serverName ?? host
    }

    /// "HOST:PORT" or "[v6]:PORT".
    public static func parse(_ text: String) -> (host: String, port: Int)? {
        if text.hasPrefix("["), let close = text.firstIndex(of: "]") {
            let host = String(text[text.index(after: text.startIndex)..<close])
            let rest = text[text.index(after: close)...]
            guard rest.hasPrefix(":"), let port = Int(rest.dropFirst()), (1...65535).contains(port) else { return nil }
            return (host, port)
        }
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]),
              (0...65535).contains(port), colon != text.startIndex else { return nil }
        return (String(text[..<colon]), port)
    }
}

/// What a client does with its sessions; called on the client's event loop.
protocol SessionBehaviour: AnyObject {
    func accepted(_ accept: HelloAccept, channel: Channel)
    func received(_ message: Message, frame: Frame, channel: Channel)
    func disconnected()
}

/// A connection to the controller that is re-established for ever: connect, TLS, Hello; on any
/// failure or close, wait (exponential backoff with jitter) and try again. All state is confined
/// to `eventLoop`.
final class ReconnectingClient: ClientSessionEvents, @unchecked Sendable {
    let eventLoop: EventLoop
    private let endpoint: ControllerEndpoint
    private let hello: Hello
    private let log: @Sendable (String) -> Void
    /// Weak: the owner (uplink or consumer stream) may go away while a reconnect is pending.
    private weak var behaviour: (any SessionBehaviour)?
    private var backoff: Backoff
    private var stopped = false
    private var channel: Channel?
    /// True from a connect's start until its connection fails or closes: `channel` is set only
    /// once the socket exists, and a timer whose cancel came too late must not open a second one.
    private var connecting = false
    /// The TLS context `channel` was opened with.
    private var channelContext: TLSContext?
    private var lastFailure: String?
    private var pendingReconnect: Scheduled<Void>?

    init(endpoint: ControllerEndpoint, hello: Hello, backoff: Backoff, eventLoop: EventLoop,
         behaviour: any SessionBehaviour, log: @escaping @Sendable (String) -> Void) {
        self.endpoint = endpoint
        self.hello = hello
        self.backoff = backoff
        self.eventLoop = eventLoop
        self.behaviour = behaviour
        self.log = log
    }

    func start() {
        // A renewed certificate: the session moves to it now, well before the old one expires
        // (the spool resends whatever was not acknowledged).
        endpoint.credentials.observe { [weak self] in
            guard let self else { return }
            self.eventLoop.execute { self.moveToNewCredentials() }
        }
        eventLoop.execute { self.connect() }
    }

    private func moveToNewCredentials() {
        guard !stopped, let tls = endpoint.tls, tls !== channelContext else { return }
        guard let channel else {
            // Waiting out a backoff (for a first certificate, say): connect now. (A connect
            // under way has cleared `pendingReconnect` and is left alone.)
            if let pending = pendingReconnect {
                pending.cancel()
                connect()
            }
            return
        }
        log("new certificate: reconnecting to the controller with it")
        channel.close(promise: nil)
    }

    func stop() -> EventLoopFuture<Void> {
        eventLoop.submit {
            self.stopped = true
            return self.channel
        }.flatMap { channel -> EventLoopFuture<Void> in
            guard let channel else { return self.eventLoop.makeSucceededVoidFuture() }
            return channel.close().flatMapErrorThrowing { _ in } // already closed is fine
        }
    }

    private func connect() {
        pendingReconnect = nil
        guard !stopped, !connecting, channel == nil else { return }
        guard let tls = endpoint.tls else {
            note("no certificate yet to connect to the controller with; waiting for one")
            scheduleReconnect()
            return
        }
        channelContext = tls
        connecting = true
        let serverName = endpoint.serverName
        let hello = self.hello
        ClientBootstrap(group: eventLoop)
            .connectTimeout(.seconds(5))
            .channelInitializer { channel in
                self.channel = channel
                return channel.eventLoop.makeCompletedFuture {
                    let sync = channel.pipeline.syncOperations
                    try sync.addHandler(TLSHandler(context: tls, serverName: serverName))
                    try sync.addHandler(FrameHandler())
                    try sync.addHandler(ClientSessionHandler(hello: hello, events: self))
                }
            }
            .connect(host: endpoint.host, port: endpoint.port)
            .whenComplete { result in
                switch result {
                case .success(let channel):
                    if self.stopped { channel.close(promise: nil) }
                case .failure(let error):
                    self.channel = nil
                    self.connecting = false
                    self.note("cannot connect to \(self.endpoint.host):\(self.endpoint.port): \(error)")
                    self.scheduleReconnect()
                }
            }
    }

    private func scheduleReconnect() {
        guard !stopped else { return }
        let delay = backoff.nextDelayMs()
        pendingReconnect = eventLoop.scheduleTask(in: .milliseconds(Int64(delay))) { self.connect() }
    }

    /// Logs a failure once per distinct text, so a controller that stays down does not flood.
    private func note(_ text: String) {
        if text != lastFailure { log(text) }
        lastFailure = text
    }

    // MARK: ClientSessionEvents

    func sessionAccepted(_ accept: HelloAccept, channel: Channel) {
        backoff.reset()
        lastFailure = nil
        log("connected to controller \(accept.serverId) at \(endpoint.host):\(endpoint.port)")
        behaviour?.accepted(accept, channel: channel)
    }

    func sessionReceived(_ message: Message, frame: Frame, channel: Channel) {
        behaviour?.received(message, frame: frame, channel: channel)
    }

    func sessionFailed(_ reason: String) { note(reason) }

    func sessionClosed(channel: Channel) {
        guard self.channel === channel else { return }
        self.channel = nil
        connecting = false
        behaviour?.disconnected()
        scheduleReconnect()
    }
}
