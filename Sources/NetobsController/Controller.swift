import NIOCore
import NIOPosix
import NetobsTLS
import NetobsWire
import NetobsWireNIO
import Synchronization

/// The controller's server: TLS → frames → heartbeat timer → session, per accepted connection.
public final class Controller: Sendable {
    public struct Configuration: Sendable {
        public var host: String
        public var port: Int
        public var dataDirectory: String
        public var tls: TLSContext
        public var serverId: String = "netobs-controller"
        public var maxPayload: UInt32 = Limits.defaultNegotiatedPayload
        public var heartbeatIntervalMs: UInt32 = 5_000
        public var helloTimeout: TimeAmount = .seconds(10)
        /// The operator's Ed25519 public key; without it, pushed program bundles are refused.
        public var operatorKey: VerifyingKey?
        /// Share of agents that get a new program bundle first when the push names none.
        public var canaryPercent = 10
        /// Joins JSON records with pods, services and nodes before they reach consumers; the
        /// durable log keeps them as the agents sent them. Nil: records go out unjoined.
        public var joiner: TopologyJoiner?
        /// Consumer fan-out: grouping window, per-consumer bounds, replay ring size.
        public var stream = StreamHub.Settings()
        /// How much of the agents' logs is kept (1 GiB of all agents' logs together by default).
        public var retention = LogRetention()

        /// Retention keeps what waits to be published, so the log may pass its byte bound by that
        /// much: a quarter of the bound at most (past it, batches are not published, counted).
        var publishBacklogBytes: Int {
            min(stream.publishBacklogBytes, retention.maxBytes.map { max(1 << 20, $0 / 4) } ?? .max)
        }

        public init(host: String, port: Int, dataDirectory: String, tls: TLSContext) {
            self.host = host
            self.port = port
            self.dataDirectory = dataDirectory
            self.tls = tls
        }
    }

    public let store: AgentLogStore
    public let hub: StreamHub
    public var agents: AgentRegistry { services.control.agents }
    public var rules: RuleStore { services.control.rules }
    public var programs: ProgramRegistry { services.control.programs }
    private let services: ControllerServices
    private let serverChannel: Channel
    private let tracker: ChildTracker
    private let diskPool: NIOThreadPool
    private let retentionTimer: RepeatedTask?
    /// Re-resolves pod selectors in the rules as pods come and go.
    private let podRulesTimer: RepeatedTask

    public var counters: ControllerCounters { services.counters }
    /// Stored records not published to consumers because too many waited (`publishBacklogBytes`).
    public var unpublishedRecords: UInt64 { services.publisher.skippedRecords }
    public var joiner: TopologyJoiner? { services.joiner }
    public var port: Int { serverChannel.localAddress?.port ?? 0 }

    private init(store: AgentLogStore, hub: StreamHub, services: ControllerServices, serverChannel: Channel,
                 tracker: ChildTracker, diskPool: NIOThreadPool, retentionTimer: RepeatedTask?, podRulesTimer: RepeatedTask) {
        self.store = store
        self.hub = hub
        self.services = services
        self.serverChannel = serverChannel
        self.tracker = tracker
        self.diskPool = diskPool
        self.retentionTimer = retentionTimer
        self.podRulesTimer = podRulesTimer
    }

    /// Opens the data directory (recovering the logs lazily per agent) and listens.
    public static func start(_ configuration: Configuration, log: ControllerLog = .stderr,
                             group: EventLoopGroup = MultiThreadedEventLoopGroup.singleton) async throws -> Controller {
        let store = try AgentLogStore(directory: configuration.dataDirectory, retention: configuration.retention, log: log)
        let hub = StreamHub(settings: configuration.stream)
        let programs = try ProgramRegistry(directory: configuration.dataDirectory)
        if let migration = programs.migration { log.info(migration) }
        let control = ControlPlane(rules: try RuleStore(directory: configuration.dataDirectory),
                                   programs: programs,
                                   agents: AgentRegistry(), operatorKey: configuration.operatorKey,
                                   defaultCanaryPercent: configuration.canaryPercent, log: log,
                                   topology: configuration.joiner?.store)
        let pool = NIOThreadPool(numberOfThreads: 2)
        pool.start()
        let services = ControllerServices(store: store, hub: hub, control: control, diskPool: pool, log: log,
                                          serverId: configuration.serverId, maxPayload: configuration.maxPayload,
                                          heartbeatIntervalMs: configuration.heartbeatIntervalMs,
                                          helloTimeout: configuration.helloTimeout, joiner: configuration.joiner,
                                          publisher: PublishQueue(limitBytes: configuration.publishBacklogBytes, log: log))
        let tls = configuration.tls
        let heartbeat = TimeAmount.milliseconds(Int64(configuration.heartbeatIntervalMs))
        let tracker = ChildTracker()
        let channel: Channel
        do {
            channel = try await ServerBootstrap(group: group)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .childChannelInitializer { child in
                    tracker.add(child)
                    return child.eventLoop.makeCompletedFuture {
                        let sync = child.pipeline.syncOperations
                        try sync.addHandler(TLSHandler(context: tls))
                        try sync.addHandler(FrameHandler())
                        try sync.addHandler(IdleStateHandler(readTimeout: heartbeat * 3, writeTimeout: heartbeat))
                        try sync.addHandler(ControllerSessionHandler(services: services))
                    }
                }
                .bind(host: configuration.host, port: configuration.port).get()
        } catch {
            try? await pool.shutdownGracefully()
            await services.publisher.shutdown()
            throw error
        }
        let controller = Controller(store: store, hub: hub, services: services, serverChannel: channel,
                                    tracker: tracker, diskPool: pool,
                                    retentionTimer: RetentionTimer.start(store: store, on: group.next(), pool: pool),
                                    podRulesTimer: group.next().scheduleRepeatedTask(initialDelay: .seconds(1), delay: .seconds(1)) { _ in
                                        control.followPods()
                                    })
        log.info("listening on \(channel.localAddress.map { "\($0)" } ?? configuration.host), data in \(configuration.dataDirectory)")
        return controller
    }

    /// Stops listening and drops every connection at once (no goodbye), as a crash would.
    public func stop() async {
        retentionTimer?.cancel()
        podRulesTimer.cancel()
        try? await serverChannel.close()
        for child in tracker.all() { try? await child.close() }
        try? await diskPool.shutdownGracefully()
        await services.publisher.shutdown()
    }

    /// Until the listening socket closes.
    public func wait() async throws { try await serverChannel.closeFuture.get() }
}

/// The accepted connections still open.
final class ChildTracker: Sendable {
    private let channels = Mutex<[ObjectIdentifier: Channel]>([:])

    func add(_ channel: Channel) {
        let id = ObjectIdentifier(channel)
        channels.withLock { $0[id] = channel }
        channel.closeFuture.whenComplete { _ in _ = self.channels.withLock { $0.removeValue(forKey: id) } }
    }

    func all() -> [Channel] { channels.withLock { Array($0.values) } }
}

extension Controller {
    /// How many of `agents` get a new program bundle first at `percent` (rounded up, at least one).
    public static func canaryCount(agents: Int, percent: Int) -> Int { Rollout.canaryCount(agents: agents, percent: percent) }
}
