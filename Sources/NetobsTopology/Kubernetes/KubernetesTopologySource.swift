import NIOCore
import NIOPosix
import Synchronization

/// Follows pods, services, endpoint slices and nodes of a Kubernetes cluster into a
/// `TopologyStore`. Needs get/list/watch on those four kinds (cluster-wide).
public final class KubernetesTopologySource: TopologySource {
    private let store: TopologyStore
    private let client: KubeHTTPClient
    private let pods: KubeResourceWatcher<KubePod>
    private let services: KubeResourceWatcher<KubeService>
    private let slices: KubeResourceWatcher<KubeEndpointSlice>
    private let nodes: KubeResourceWatcher<KubeNode>
    private let tasks = Mutex<[Task<Void, Never>]>([])

    public init(endpoint: KubeEndpoint, store: TopologyStore, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
                settings: KubeWatchSettings = KubeWatchSettings(), log: @escaping @Sendable (String) -> Void = { _ in }) throws {
        self.store = store
        client = try KubeHTTPClient(endpoint: endpoint, group: group)
        let prefixed: @Sendable (String) -> Void = { log("kubernetes \(endpoint.host):\(endpoint.port): \($0)") }
        pods = KubeResourceWatcher(client: client, store: store, settings: settings, log: prefixed)
        services = KubeResourceWatcher(client: client, store: store, settings: settings, log: prefixed)
        slices = KubeResourceWatcher(client: client, store: store, settings: settings, log: prefixed)
        nodes = KubeResourceWatcher(client: client, store: store, settings: settings, log: prefixed)
    }

    public func start() {
        let runs: [@Sendable () async -> Void] = [pods.run, services.run, slices.run, nodes.run]
        tasks.withLock { tasks in
            guard tasks.isEmpty else { return }
            tasks = runs.map { run in Task { await run() } }
        }
    }

    public func stop() {
        tasks.withLock { tasks in
            for task in tasks { task.cancel() }
            tasks = []
        }
    }

    /// True once every kind has been listed.
    public var isSynced: Bool { pods.isSynced && services.isSynced && slices.isSynced && nodes.isSynced }

    /// The four watchers' counters, added up.
    public var counters: KubeWatchCounters {
        [pods.snapshot, services.snapshot, slices.snapshot, nodes.snapshot].reduce(into: KubeWatchCounters()) { sum, c in
            sum.lists += c.lists
            sum.relistsOnGone += c.relistsOnGone
            sum.watchesStarted += c.watchesStarted
            sum.watchFailures += c.watchFailures
            sum.events += c.events
            sum.bookmarks += c.bookmarks
            sum.badObjects += c.badObjects
        }
    }
}
