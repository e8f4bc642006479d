import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// How one topology feed (a Kubernetes resource's list/watch, or the topology file) keeps up,
/// for /metrics and its alerts.
public struct TopologyWatchHealth: Sendable, Equatable {
    /// "kubernetes" or "file".
    public var source: String
    /// "pods", "services", "endpointslices", "nodes", or "file".
    public var resource: String
    /// The feed's latest request succeeded (a watch is open, or the file loaded).
    public var up = false
    /// Unix ns when the feed was last known current: a list, a watch event or bookmark, a file check.
    public var lastSyncNs: UInt64 = 0
    /// Full lists after the first (the watch's resourceVersion expired: 410 Gone), or file reloads.
    public var relists = 0
    /// Requests that failed (dropped or refused watches, bad statuses, unreadable files).
    public var failures = 0
    /// Changes applied: watch events, or file loads.
    public var events = 0

    public init(source: String, resource: String) {
        self.source = source
        self.resource = resource
    }
}

/// The health of every feed of a topology store; written by its sources, read at scrape time.
public final class TopologyHealth: Sendable {
    private let feeds = Mutex<[String: TopologyWatchHealth]>([:])
    private let clock: @Sendable () -> UInt64

    public init(clock: @escaping @Sendable () -> UInt64 = TopologyHealth.wallNs) { self.clock = clock }

    /// Every feed, sorted by source and resource.
    public var snapshot: [TopologyWatchHealth] {
        feeds.withLock { $0.values.sorted { ($0.source, $0.resource) < ($1.source, $1.resource) } }
    }

    /// Changes one feed; `synced` also stamps it current now.
    func update(source: String, resource: String, synced: Bool = false, _ change: (inout TopologyWatchHealth) -> Void = { _ in }) {
        let now = synced ? clock() : 0
        feeds.withLock { feeds in
            let key = source + "/" + resource
            var feed = feeds[key] ?? TopologyWatchHealth(source: source, resource: resource)
            change(&feed)
            if synced {
                feed.up = true
                feed.lastSyncNs = now
            }
            feeds[key] = feed
        }
    }

    public static func wallNs() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
    }
}
