import Foundation
import Testing
@testable import NetobsTopology

/// The health the watchers report for /metrics.
@Suite(.serialized) struct TopologyHealthTests {
    @Test func watchersReportUpSyncedAndFailing() async throws {
        let cluster = try StandInCluster()
        let store = TopologyStore()
        let source = try cluster.source(store)
        let before = TopologyHealth.wallNs()
        source.start()
        defer { source.stop() }
        #expect(await eventually { store.state == cluster.expected && cluster.server.openWatches == 4 })
        var feeds = store.health.snapshot
        #expect(feeds.map(\.resource) == ["endpointslices", "nodes", "pods", "services"])
        #expect(feeds.allSatisfy { $0.source == "kubernetes" && $0.up && $0.lastSyncNs >= before && $0.failures == 0 && $0.relists == 0 })

        cluster.addPod("user-1", ip: "10.1.0.8")
        #expect(await eventually { store.health.snapshot.first { $0.resource == "pods" }?.events == 1 })
        cluster.server.compact()
        cluster.server.dropWatches()
        #expect(await eventually { store.health.snapshot.allSatisfy { $0.relists == 1 && $0.up } })

        try cluster.server.stop()
        #expect(await eventually { store.health.snapshot.allSatisfy { !$0.up && $0.failures >= 1 } })
        feeds = store.health.snapshot
        #expect(feeds.allSatisfy { $0.lastSyncNs > before }, "the last sync stays as it was")
    }
}
