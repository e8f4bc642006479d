import NetobsRecords

/// Rules that select pods by UID (the controller's resolution of a pod selector for this node),
/// applied through the kernel's cgroup set: the UIDs become the cgroup ids of those pods and
/// their containers, read again every `rescanNs` as containers start and stop. A container that
/// starts between two reads is selected from the next one on.
struct PodRuleCgroups {
    static let rescanNs: UInt64 = 1_000_000_000

    private var scanner: PodCgroupScanner?
    /// The rules in force when they select pods by UID.
    private var rules: CollectionRules?
    private var applied: Set<UInt64> = []
    private var scannedNs: UInt64 = 0

    /// `cgroupRoot`: the cgroup v2 mount; nil: no pod's cgroup can be found, so none is selected.
    init(cgroupRoot: String?) { scanner = cgroupRoot.map { PodCgroupScanner(root: $0) } }

    /// `rules` as the kernel maps take them; remembered for `refresh` when they select pods.
    mutating func kernelRules(for rules: CollectionRules, nowNs: UInt64) -> CollectionRules {
        guard let uids = rules.podUIDs else {
            self.rules = nil
            return rules
        }
        self.rules = rules
        scannedNs = nowNs
        applied = cgroups(of: uids.values)
        return rules.withPodCgroups(applied)
    }

    /// The rules to apply again when the selected pods' cgroups changed; nil when they did not
    /// (or it is not time to look yet).
    mutating func refresh(nowNs: UInt64) -> CollectionRules? {
        guard let rules, let uids = rules.podUIDs, nowNs &- scannedNs >= Self.rescanNs else { return nil }
        scannedNs = nowNs
        let found = cgroups(of: uids.values)
        guard found != applied else { return nil }
        applied = found
        return rules.withPodCgroups(found)
    }

    private mutating func cgroups(of uids: Set<String>) -> Set<UInt64> {
        guard var scanner, !uids.isEmpty else { return [] }
        defer { self.scanner = scanner }
        return Set(scanner.scan(wanted: [], refresh: false).compactMap { uids.contains($0.value) ? $0.key : nil })
    }
}
