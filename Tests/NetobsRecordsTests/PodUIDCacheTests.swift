import Testing
import NetobsRecords

@Suite struct PodUIDCacheTests {
    let second: UInt64 = 1_000_000_000
    let a = "0b6c5f7e-1d2a-4e3b-9c8d-7f6e5d4c3b2a", b = "11111111-2222-3333-4444-555555555555"

    /// A cache after its first scan (at t = 1 s) found pods 10 → a and 11 → b.
    func started() -> PodUIDCache {
        var cache = PodUIDCache()
        #expect(cache.scanNeeded(unknown: [10, 11], nowNs: second) == .refresh)
        cache.update(found: [10: a, 11: b], lookedFor: [10, 11], nowNs: second)
        return cache
    }

    @Test func theFirstRecordsReadTheWholeHierarchyThenKnownIdsCostNothing() {
        var cache = started()
        #expect(cache.uid(of: 10) == a && cache.uid(of: 11) == b && cache.uid(of: 12) == nil)
        #expect(cache.unknown(among: [10, 11]).isEmpty)
        #expect(cache.scanNeeded(unknown: [], nowNs: 2 * second) == .none)
        #expect(cache.scans == 1)
    }

    @Test func anUnknownIdIsLookedForOnceAndAnIdOutsidePodsIsRemembered() {
        var cache = started()
        let unknown = cache.unknown(among: [10, 12, 13])
        #expect(unknown == [12, 13])
        #expect(cache.scanNeeded(unknown: unknown, nowNs: 2 * second) == .lookup)
        // 12 is a new pod's cgroup; 13 belongs to no pod (a process outside pods).
        cache.update(found: [10: a, 11: b, 12: b], lookedFor: unknown, nowNs: 2 * second)
        #expect(cache.uid(of: 12) == b && cache.uid(of: 13) == nil)
        // 13 never asks for a scan again.
        #expect(cache.unknown(among: [10, 12, 13]).isEmpty)
        #expect(cache.scanNeeded(unknown: cache.unknown(among: [13]), nowNs: 3 * second) == .none)
    }

    @Test func aFloodOfNewIdsRescansAtMostTheBurstThenOnePerInterval() {
        var cache = started()
        var scans = 0
        var id: UInt64 = 1000
        // 10 s of a new unknown cgroup every millisecond, none of them a pod's.
        for ms in stride(from: UInt64(0), to: 10_000, by: 1) {
            id += 1
            let now = 2 * second + ms * 1_000_000
            let unknown = cache.unknown(among: [id])
            if cache.scanNeeded(unknown: unknown, nowNs: now) != .none {
                scans += 1
                cache.update(found: [10: a, 11: b], lookedFor: unknown, nowNs: now)
            }
        }
        // The policy's 4 at once, then one per second: 4 + 10 (give or take the last tick).
        #expect(scans >= 4 + 9 && scans <= 4 + 10, "\(scans) rescans")
        #expect(cache.rescansDeferred == 10_000 - scans)
        // The known pods kept their UIDs throughout.
        #expect(cache.uid(of: 10) == a)
    }

    @Test func aDeferredIdIsFoundOnceTheBucketRefills() {
        var policy = PodUIDCache.Policy()
        policy.burst = 1
        var cache = PodUIDCache(policy: policy)
        _ = cache.scanNeeded(unknown: [], nowNs: second)
        cache.update(found: [:], lookedFor: [], nowNs: second)
        #expect(cache.scanNeeded(unknown: [20], nowNs: second + 1) == .lookup)
        cache.update(found: [:], lookedFor: [20], nowNs: second + 1)
        // The bucket is empty: 21 waits (its records go without pod_uid) ...
        #expect(cache.scanNeeded(unknown: [21], nowNs: second + 2) == .none)
        #expect(cache.unknown(among: [21]) == [21])
        // ... and is looked for once a token is back.
        #expect(cache.scanNeeded(unknown: [21], nowNs: 2 * second + 2) == .lookup)
        cache.update(found: [21: a], lookedFor: [21], nowNs: 2 * second + 2)
        #expect(cache.uid(of: 21) == a)
    }

    @Test func theHierarchyIsReadAgainEachRefreshAndGonePodsAreForgotten() {
        var cache = started()
        let refresh = cache.policy.refreshIntervalNs
        #expect(cache.scanNeeded(unknown: [], nowNs: second + refresh - 1) == .none)
        #expect(cache.scanNeeded(unknown: [], nowNs: second + refresh) == .refresh)
        cache.update(found: [11: b], lookedFor: [], nowNs: second + refresh)
        #expect(cache.uid(of: 10) == nil && cache.uid(of: 11) == b)
        #expect(cache.podCgroupCount == 1)
        // A clock that went back is no reason to trust old knowledge either.
        #expect(cache.scanNeeded(unknown: [], nowNs: second) == .refresh)
    }

    @Test func theMemoryOfIdsOutsidePodsIsBounded() {
        var policy = PodUIDCache.Policy()
        policy.maxNotPods = 3
        var cache = PodUIDCache(policy: policy)
        cache.update(found: [:], lookedFor: [1, 2, 3], nowNs: second)
        #expect(cache.unknown(among: [1, 2, 3]).isEmpty)
        cache.update(found: [:], lookedFor: [4], nowNs: second)
        // Full: it started over with 4.
        #expect(cache.unknown(among: [1, 2, 3, 4]) == [1, 2, 3])
    }
}

@Suite struct KubeletCgroupsTests {
    @Test func theWalkReadsKubeletRootsAndSearchesOnlyAboveThem() {
        for name in ["kubepods", "kubepods.slice", "kubelet-kubepods.slice"] {
            #expect(KubeletCgroups.step(name: name, depth: 1) == .podRoot)
            #expect(KubeletCgroups.step(name: name, depth: KubeletCgroups.searchDepth) == .podRoot)
        }
        for name in ["system.slice", "kubelet.slice", "netobs-nodelab", "kubepods-besteffort.slice", "kubepods2"] {
            #expect(KubeletCgroups.step(name: name, depth: 1) == .search)
            #expect(KubeletCgroups.step(name: name, depth: KubeletCgroups.searchDepth) == .skip)
        }
    }
}
