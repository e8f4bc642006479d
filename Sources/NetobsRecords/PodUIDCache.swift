/// The agent's memory of which cgroups belong to pods (cgroup id → pod UID, for the `pod_uid`
/// field) and its rule for when to read the cgroup hierarchy again. Pure: the caller scans and
/// passes the time.
///
/// - An unknown id is a new cgroup (cgroup ids are never reused), so it asks for a rescan.
///   An id that a rescan did not find belongs to no pod (a cgroup never moves to another
///   parent) and is remembered as such: processes outside pods do not cause rescans.
/// - Rescans asked for by unknown ids are rate-limited by a token bucket (`burst` at once, then
///   one per `rescanIntervalNs`): a flood of new cgroups costs at most that; the records of a
///   cgroup not yet found go out without `pod_uid` (batches so deferred: `rescansDeferred`).
/// - Every `refreshIntervalNs` the hierarchy is read again regardless, and the ids whose
///   directories are gone are forgotten.
public struct PodUIDCache: Sendable {
    public struct Policy: Sendable {
        public var burst = 4
        public var rescanIntervalNs: UInt64 = 1_000_000_000
        public var refreshIntervalNs: UInt64 = 60_000_000_000
        /// Ids remembered as belonging to no pod; past this many the memory starts over.
        public var maxNotPods = 16_384

        public init() {}
    }

    public enum Scan: Sendable, Equatable {
        case none
        /// Look for the unknown ids (where pods were found before, and beyond if need be).
        case lookup
        /// Read the whole hierarchy again: the first time, then every refresh interval.
        case refresh
    }

    public let policy: Policy
    private var uids: [UInt64: String] = [:]
    private var notPods: Set<UInt64> = []
    private var lastScanNs: UInt64?
    private var tokens: Int
    private var refilledNs: UInt64?
    public private(set) var scans = 0
    public private(set) var rescansDeferred = 0

    public init(policy: Policy = Policy()) {
        self.policy = policy
        tokens = policy.burst
    }

    public func uid(of cgroupID: UInt64) -> String? { uids[cgroupID] }
    public var podCgroupCount: Int { uids.count }

    /// The ids of `ids` known neither as a pod's nor as no pod's.
    public func unknown(among ids: Set<UInt64>) -> Set<UInt64> {
        ids.filter { uids[$0] == nil && !notPods.contains($0) }
    }

    /// Whether records from cgroups with the `unknown` ids need a scan before they go out.
    public mutating func scanNeeded(unknown: Set<UInt64>, nowNs: UInt64) -> Scan {
        guard let last = lastScanNs, nowNs >= last, nowNs - last < policy.refreshIntervalNs else { return .refresh }
        guard !unknown.isEmpty else { return .none }
        refill(nowNs)
        guard tokens > 0 else {
            rescansDeferred += 1
            return .none
        }
        tokens -= 1
        return .lookup
    }

    /// The result of a scan: `found` is every pod cgroup there is now; the ids of `lookedFor`
    /// (the unknown ones the scan was for) not in it belong to no pod.
    public mutating func update(found: [UInt64: String], lookedFor: Set<UInt64>, nowNs: UInt64) {
        uids = found
        for id in lookedFor where found[id] == nil && !notPods.contains(id) {
            if notPods.count >= policy.maxNotPods { notPods.removeAll(keepingCapacity: true) }
            notPods.insert(id)
        }
        lastScanNs = nowNs
        scans += 1
    }

    private mutating func refill(_ nowNs: UInt64) {
        guard let since = refilledNs, nowNs >= since else {
            refilledNs = nowNs
            return
        }
        let earned = (nowNs - since) / max(1, policy.rescanIntervalNs)
        guard earned > 0 else { return }
        tokens = min(policy.burst, tokens + Int(min(earned, UInt64(policy.burst))))
        refilledNs = since + earned * max(1, policy.rescanIntervalNs)
    }
}
