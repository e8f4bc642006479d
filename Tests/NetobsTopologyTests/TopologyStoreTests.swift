import Testing
@testable import NetobsTopology

@Suite struct TopologyStoreTests {
    let carts = TopologyPod(name: "carts-1", namespace: "shop", uid: "u1", ips: ["10.1.0.5"], node: "n1")

    @Test func deletedPodsStayForTheGracePeriodOnly() {
        let clock = TestClock()
        let store = TopologyStore(gracePeriodNs: 60_000_000_000, clock: clock.now)
        store.upsert(carts)
        store.delete(TopologyPod.self, carts.key)
        #expect(store.state.pods.isEmpty)
        #expect(store.view().recentlyDeleted == [carts])
        clock.advance(seconds: 59)
        #expect(store.view().recentlyDeleted == [carts])
        let before = store.generation
        clock.advance(seconds: 2)
        #expect(store.view().recentlyDeleted.isEmpty)
        #expect(store.generation != before, "an expiry is a change the join must see")
    }

    @Test func recreatingAPodEndsItsTombstone() {
        let store = TopologyStore()
        store.upsert(carts)
        store.delete(TopologyPod.self, carts.key)
        var again = carts
        again.ips = ["10.1.0.9"]
        store.upsert(again)
        #expect(store.view().recentlyDeleted.isEmpty)
        #expect(store.state.pods[carts.key]?.ips == ["10.1.0.9"])
    }

    @Test func aPodRecreatedUnderItsNameLeavesTheOldOneInGrace() {
        let store = TopologyStore()
        store.upsert(carts)
        var again = carts
        again.uid = "u2"
        again.ips = ["10.1.0.9"]
        store.upsert(again)
        #expect(store.view().recentlyDeleted == [carts])
        store.replace(all: [carts])
        #expect(store.view().recentlyDeleted == [again], "a relist that brings u1 back ends its grace and starts u2's")
    }

    @Test func aRelistDeletesWhatIsGoneAndKeepsItInGrace() {
        let store = TopologyStore()
        let other = TopologyPod(name: "orders-1", namespace: "shop", ips: ["10.1.0.6"])
        store.replace(all: [carts, other])
        store.replace(all: [other])
        #expect(Array(store.state.pods.keys) == [other.key])
        #expect(store.view().recentlyDeleted == [carts])
    }

    @Test func unchangedWritesDoNotBumpTheGeneration() {
        let store = TopologyStore()
        store.upsert(carts)
        let generation = store.generation
        store.upsert(carts)
        store.replace(all: [carts])
        store.delete(TopologyNode.self, ObjectKey(namespace: "", name: "absent"))
        #expect(store.generation == generation)
    }
}
