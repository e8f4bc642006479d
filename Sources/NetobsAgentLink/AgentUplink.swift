import NIOCore
import NIOPosix
import NetobsWire
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// The agent's link to the controller: batches go into the `Spool` (durably) first, then out on
/// the current session; an Ack deletes them. After every (re)connect, everything still in the
/// spool is sent again with its original sequence numbers (the controller drops what it already
/// has), at most `window` batches unacknowledged at a time.
public final class AgentUplink: SessionBehaviour, @unchecked Sendable {
    /// Handles a RuleSet or ProgramBundle from the controller, on any thread; `respond` (callable
    /// from any thread, once) sends the RuleSetAck or ProgramStatus back as the reply.
    public typealias ControlHandler = @Sendable (Message, _ respond: @escaping @Sendable (Message) -> Void) -> Void

    public struct Stats: Sendable, Equatable {
        public var sessions = 0
        public var framesSent = 0
        public var resent = 0
        public var acknowledged = 0
    }

    public let spool: Spool
    private var client: ReconnectingClient?
    private let eventLoop: EventLoop
    private let log: @Sendable (String) -> Void
    private let window: Int
    private let control: ControlHandler?
    // Event-loop confined.
    private var channel: Channel?
    private var sentUpTo: UInt64 = 0
    private var everSent: UInt64 = 0
    private let statsBox = Mutex(Stats())

    public var stats: Stats { statsBox.withLock { $0 } }
    /// The hook report every Hello of this uplink carries (empty when none was given, or when the
    /// one given could not be sent: see `AgentHello`).
    public let hooks: [HookStatus]

    /// `hooks`: the tier picked for each kernel hook on this host, sent in every Hello (the first
    /// and each reconnect) so the controller always holds the report of the running agent.
    public init(endpoint: ControllerEndpoint, spool: Spool, node: AgentIdentity, window: Int = 64,
                backoff: Backoff = Backoff(),
                eventLoop: EventLoop = MultiThreadedEventLoopGroup.singleton.next(),
                hooks: [HookStatus] = [],
                control: ControlHandler? = nil,
                log: @escaping @Sendable (String) -> Void) {
        self.spool = spool
        self.eventLoop = eventLoop
        self.log = log
        self.window = window
        self.control = control
        var capabilities: Set = [Capability.recordsJSON, Capability.spool]
        if control != nil { capabilities.formUnion([Capability.rules, Capability.programs]) }
        let hello = AgentHello.make(node: node, capabilities: capabilities, hooks: hooks, log: log)
        self.hooks = hello.hooks
        client = ReconnectingClient(endpoint: endpoint, hello: hello, backoff: backoff, eventLoop: eventLoop,
                                    behaviour: self, log: log)
    }

    public func start() { client?.start() }

    public func stop() async {
        try? await client?.stop().get()
    }

    /// `stop()` for synchronous callers (not on an event loop).
    public func stopBlocking() { try? client?.stop().wait() }

    /// `drain(timeoutMs:)` for synchronous callers.
    public func drainBlocking(timeoutMs: Int) -> Bool {
        let deadline = MonotonicClock.nowNs() + UInt64(timeoutMs) * 1_000_000
        while !spool.pending.isEmpty {
            if MonotonicClock.nowNs() > deadline { return false }
            usleep(20_000)
        }
        return true
    }

    /// Stores `records` as the next batch and sends it when a session is up. Returns its
    /// sequence, or nil when the spool was full (see `Spool.overflow`). Call from any thread.
    @discardableResult
    public func submit(records: [[UInt8]]) throws -> UInt64? {
        let sequence = try spool.add(records: records)
        if sequence != nil { eventLoop.execute { self.pump() } }
        return sequence
    }

    /// Waits until the spool is empty or `timeoutMs` passed; true when empty.
    public func drain(timeoutMs: Int) async -> Bool {
        let deadline = MonotonicClock.nowNs() + UInt64(timeoutMs) * 1_000_000
        while !spool.pending.isEmpty {
            if MonotonicClock.nowNs() > deadline { return false }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return true
    }

    // MARK: SessionBehaviour (on the event loop)

    func accepted(_ accept: HelloAccept, channel: Channel) {
        self.channel = channel
        sentUpTo = 0
        statsBox.withLock { $0.sessions += 1 }
        let pending = spool.pending.count
        if pending > 0 { log("resending \(pending) unacknowledged batches from the spool") }
        pump()
    }

    func received(_ message: Message, frame: Frame, channel: Channel) {
        switch message {
        case .ack(let ack):
            do {
                try spool.acknowledge(ack.sequence, cumulative: ack.cumulative)
                statsBox.withLock { $0.acknowledged += 1 }
            } catch {
                log("cannot update the spool after ack \(ack.sequence): \(error)")
            }
            pump()
        case .ruleSet, .programBundle:
            guard let control else {
                log("ignoring \(message.type) from the controller: this agent takes no rules or programs from it")
                return
            }
            let id = frame.correlationId
            control(message) { answer in
                guard let reply = try? Frame(answer, correlationId: id, flags: .reply) else { return }
                channel.writeAndFlush(reply, promise: nil)
            }
        case .error(let e):
            log("controller error \(e.code) for batch \(frame.correlationId): \(e.message)")
        default:
            log("ignoring \(message.type) from the controller (not supported yet)")
        }
    }

    func disconnected() {
        channel = nil
    }

    /// Sends spooled batches past `sentUpTo`, keeping at most `window` unacknowledged.
    private func pump() {
        guard let channel, channel.isActive else { return }
        let pending = spool.pending
        var inFlight = pending.prefix { $0.sequence <= sentUpTo }.count
        var wrote = false
        for p in pending where p.sequence > sentUpTo {
            guard inFlight < window else { break }
            do {
                let batch = try spool.load(p.sequence)
                let frame = try Frame(.flowBatch(batch), correlationId: p.sequence)
                channel.write(frame, promise: nil)
                wrote = true
                inFlight += 1
                sentUpTo = p.sequence
                let isResend = p.sequence <= everSent
                everSent = max(everSent, p.sequence)
                statsBox.withLock { $0.framesSent += 1; if isResend { $0.resent += 1 } }
            } catch {
                log("cannot send spooled batch \(p.sequence): \(error)")
                break
            }
        }
        if wrote { channel.flush() }
    }
}
