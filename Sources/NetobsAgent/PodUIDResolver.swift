import NetobsRecords

/// Sets `pod_uid` on every record (L4 and L7) whose `cgroup_id` lies in a kubelet pod cgroup.
/// The controller names host-network pods by it: they share their node's address. When the
/// cgroup hierarchy is read is `PodUIDCache`'s rule; how, `PodCgroupScanner`'s.
public final class PodUIDResolver {
    private var cache: PodUIDCache
    private var scanner: PodCgroupScanner
    private let clock: () -> UInt64
    private var reportedRoots: [String]?
    private var reportedDeferral = false

    /// `cgroupRoot`: the cgroup v2 mount (`CgroupMount.v2Root()`).
    public init(cgroupRoot: String, policy: PodUIDCache.Policy = PodUIDCache.Policy(),
                clock: @escaping () -> UInt64 = Clock.monotonicNs) {
        cache = PodUIDCache(policy: policy)
        scanner = PodCgroupScanner(root: cgroupRoot)
        self.clock = clock
    }

    public var scans: Int { cache.scans }
    public var rescansDeferred: Int { cache.rescansDeferred }

    /// `records` with `pod_uid` (right after `cgroup_id`) where their cgroup is a pod's.
    public func label(_ records: [Record]) -> [Record] {
        var ids = Set<UInt64>()
        for record in records {
            if case .uint(let id)? = record["cgroup_id"] { ids.insert(id) }
        }
        guard !ids.isEmpty else { return records }
        scanIfNeeded(ids)
        var labelled = records
        for i in labelled.indices {
            guard case .uint(let id)? = labelled[i]["cgroup_id"], let uid = cache.uid(of: id) else { continue }
            labelled[i].set("pod_uid", .string(uid), after: "cgroup_id")
        }
        return labelled
    }

    private func scanIfNeeded(_ ids: Set<UInt64>) {
        let unknown = cache.unknown(among: ids)
        let now = clock()
        let scan = cache.scanNeeded(unknown: unknown, nowNs: now)
        guard scan != .none else {
            if cache.rescansDeferred > 0 && !reportedDeferral {
                reportedDeferral = true
                AgentLog.warning("new cgroups appear faster than pod cgroups are rescanned (at most \(cache.policy.burst) "
                    + "at once, then one per \(cache.policy.rescanIntervalNs / 1_000_000) ms): their records may lack pod_uid for a while")
            }
            return
        }
        let found = scanner.scan(wanted: unknown, refresh: scan == .refresh)
        cache.update(found: found, lookedFor: unknown, nowNs: now)
        reportRoots()
    }

    /// Says where pod cgroups are read, at the first scan and whenever that changes.
    private func reportRoots() {
        let roots = scanner.kubeletRoots
        guard roots != reportedRoots else { return }
        reportedRoots = roots
        if roots.isEmpty {
            AgentLog.info("no kubelet cgroup (kubepods) under \(scanner.root): records carry no pod_uid until one appears")
        } else {
            AgentLog.info("pod_uid from the pod cgroups under \(roots.map { scanner.root + "/" + $0 }.joined(separator: ", ")) "
                + "(\(cache.podCgroupCount) now)")
        }
    }
}
