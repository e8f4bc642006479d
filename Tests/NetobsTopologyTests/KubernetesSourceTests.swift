import Foundation
import NIOCore
import NIOPosix
import Testing
import NetobsController
@testable import NetobsTopology

/// The stand-in server and the state the topology store must end up equal to.
final class StandInCluster: @unchecked Sendable {
    let server: FakeAPIServer
    let pki: KubeTestPKI
    private(set) var expected = TopologyState()
    let directory = NSTemporaryDirectory() + "netobs-kube-\(UUID().uuidString)"

    init() throws {
        pki = try KubeTestPKI()
        server = try FakeAPIServer(tls: pki.serverContext())
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        addNode("node-1", ip: "192.168.50.1")
        addPod("front-end-1", ip: "10.1.0.2")
        addPod("carts-1", ip: "10.1.0.5")
        addPod("orders-1", ip: "10.1.0.6")
        addService("carts", clusterIP: "10.96.0.5", backends: [("carts-1", "10.1.0.5")])
        addService("orders", clusterIP: "10.96.0.6", backends: [("orders-1", "10.1.0.6")])
    }

    deinit { try? FileManager.default.removeItem(atPath: directory) }

    func addPod(_ name: String, ip: String, uid: String? = nil) {
        server.apply(FakeAPIServer.paths[0], KubeObjects.pod(name, ip: ip, uid: uid))
        let model = KubeObjects.podModel(name, ip: ip, uid: uid)
        expected.pods[model.key] = model
    }

    func deletePod(_ name: String) {
        server.delete(FakeAPIServer.paths[0], namespace: "shop", name: name)
        expected.pods[ObjectKey(namespace: "shop", name: name)] = nil
    }

    func addService(_ name: String, clusterIP: String, backends: [(pod: String, ip: String)]) {
        server.apply(FakeAPIServer.paths[1], KubeObjects.service(name, clusterIP: clusterIP))
        server.apply(FakeAPIServer.paths[2], KubeObjects.slice(name, backends: backends))
        let service = KubeObjects.serviceModel(name, clusterIP: clusterIP)
        let slice = KubeObjects.sliceModel(name, backends: backends)
        expected.services[service.key] = service
        expected.endpointSlices[slice.key] = slice
    }

    func addNode(_ name: String, ip: String) {
        server.apply(FakeAPIServer.paths[3], KubeObjects.node(name, ip: ip))
        expected.nodes[ObjectKey(namespace: "", name: name)] = TopologyNode(name: name, ips: [ip])
    }

    func source(_ store: TopologyStore, listTimeout: TimeAmount = .seconds(5), log: LogCollector = LogCollector()) throws -> KubernetesTopologySource {
        var settings = KubeWatchSettings()
        settings.initialBackoff = .milliseconds(50)
        settings.maxBackoff = .milliseconds(400)
        settings.listTimeout = listTimeout
        settings.watchIdleTimeout = .seconds(20)
        settings.pageSize = 2  // three pods: two pages
        let endpoint = try KubeEndpoint.kubeconfig(path: pki.kubeconfig(port: server.port, directory: directory))
        return try KubernetesTopologySource(endpoint: endpoint, store: store, settings: settings, log: log.sink)
    }
}

final class LogCollector: @unchecked Sendable {
    private let lock = NSLock()
    private var lines: [String] = []
    var all: [String] { lock.withLock { lines } }
    var sink: @Sendable (String) -> Void {
        { [self] line in
            if ProcessInfo.processInfo.environment["NETOBS_TEST_LOG"] != nil { print(line) }
            lock.withLock { lines.append(line) }
        }
    }
}

@Suite(.serialized) struct KubernetesSourceTests {
    func record(_ src: String, _ dst: String, _ port: Int = 8080) -> [UInt8] {
        Array(#"{"kind":"tcp","src_ip":"\#(src)","src_port":40000,"dst_ip":"\#(dst)","dst_port":\#(port)}"#.utf8)
    }

    func joined(_ joiner: TopologyJoiner, _ record: [UInt8]) throws -> [String: String] {
        let object = try #require(try JSONSerialization.jsonObject(with: Data(joiner.join(record))) as? [String: Any])
        return object.mapValues { "\($0)" }
    }

    @Test func listsInPagesThenFollowsARecreatedPodWithinOneWatchEvent() async throws {
        let cluster = try StandInCluster()
        let store = TopologyStore()
        let source = try cluster.source(store)
        source.start()
        defer { source.stop() }
        #expect(await eventually { store.state == cluster.expected })
        #expect(source.isSynced)
        #expect(await eventually { cluster.server.openWatches == 4 })

        // The pod is recreated (new uid, new address): one DELETED and one ADDED event.
        cluster.deletePod("carts-1")
        cluster.addPod("carts-1", ip: "10.1.0.55", uid: "uid-carts-1-b")
        #expect(await eventually { store.state == cluster.expected })
        #expect(source.counters.lists == 4, "followed by watch events, not by a relist")
        #expect(source.counters.events >= 2)

        let joiner = TopologyJoiner(store: store, minRebuildInterval: .zero)
        #expect(try joined(joiner, record("10.1.0.2", "10.1.0.55"))["dst_pod"] == "carts-1")
        #expect(try joined(joiner, record("10.1.0.2", "10.1.0.5"))["dst_pod"] == "carts-1", "the old address is in its grace period")
        #expect(try joined(joiner, record("10.1.0.2", "10.96.0.6", 80))["dst_pod"] == "orders-1")
    }

    @Test func droppedWatchesResumeFromTheLastResourceVersion() async throws {
        let cluster = try StandInCluster()
        let store = TopologyStore()
        let source = try cluster.source(store)
        source.start()
        defer { source.stop() }
        #expect(await eventually { store.state == cluster.expected && cluster.server.openWatches == 4 })

        cluster.server.dropWatches()
        cluster.addPod("user-1", ip: "10.1.0.8")
        cluster.deletePod("orders-1")
        #expect(await eventually { store.state == cluster.expected })
        #expect(await eventually { cluster.server.openWatches == 4 })
        #expect(source.counters.lists == 4, "no relist: the watches resumed")
        #expect(source.counters.watchFailures >= 1)
    }

    @Test(arguments: [false, true])
    func goneRelistsAndEndsEqualToTheServer(asHTTPStatus: Bool) async throws {
        let cluster = try StandInCluster()
        cluster.server.goneAsHTTPStatus = asHTTPStatus
        let store = TopologyStore()
        let source = try cluster.source(store)
        source.start()
        defer { source.stop() }
        #expect(await eventually { store.state == cluster.expected && cluster.server.openWatches == 4 })

        cluster.server.compact()
        cluster.server.dropWatches()
        #expect(await eventually { source.counters.relistsOnGone == 4 && source.counters.lists == 8 })
        #expect(store.state == cluster.expected)
        cluster.addPod("user-1", ip: "10.1.0.8")
        #expect(await eventually { store.state == cluster.expected })
    }

    @Test func serverGoneForAWhileThenBackWithCompactedHistory() async throws {
        let cluster = try StandInCluster()
        let store = TopologyStore()
        let log = LogCollector()
        let source = try cluster.source(store, log: log)
        source.start()
        defer { source.stop() }
        #expect(await eventually { store.state == cluster.expected && cluster.server.openWatches == 4 })

        try cluster.server.stop()
        cluster.deletePod("orders-1")
        cluster.addPod("orders-2", ip: "10.1.0.9")
        cluster.addService("orders", clusterIP: "10.96.0.6", backends: [("orders-2", "10.1.0.9")])
        cluster.server.compact()
        // Down long enough for several failed reconnects with growing delays.
        #expect(await eventually { source.counters.watchFailures >= 12 })
        try cluster.server.start()

        #expect(await eventually { store.state == cluster.expected })
        #expect(source.counters.relistsOnGone >= 1)
        #expect(log.all.contains { $0.contains("410 Gone") })
        let joiner = TopologyJoiner(store: store, minRebuildInterval: .zero)
        #expect(try joined(joiner, record("10.1.0.2", "10.96.0.6", 80))["dst_pod"] == "orders-2")
        #expect(try joined(joiner, record("10.1.0.2", "10.1.0.6"))["dst_pod"] == "orders-1", "deleted while we were away, still in grace")
    }

    @Test func slowListsAreRetriedAndBookmarksSpareARelist() async throws {
        let cluster = try StandInCluster()
        cluster.server.setListDelay(.seconds(2))
        let store = TopologyStore()
        let source = try cluster.source(store, listTimeout: .milliseconds(300))
        source.start()
        defer { source.stop() }
        #expect(await eventually { source.counters.watchFailures >= 4 })
        #expect(!source.isSynced)
        cluster.server.setListDelay(.milliseconds(100))  // slow, but within the timeout
        #expect(await eventually { store.state == cluster.expected && cluster.server.openWatches == 4 })

        // Only nodes change, so the other watches' last versions fall behind; a bookmark
        // brings them up to date, and the compaction then costs no relist.
        cluster.addNode("node-2", ip: "192.168.50.2")
        #expect(await eventually { store.state == cluster.expected })
        cluster.server.bookmark()
        #expect(await eventually { source.counters.bookmarks >= 4 })
        cluster.server.compact(advancingVersion: false)
        cluster.server.dropWatches()
        cluster.addPod("user-1", ip: "10.1.0.8")
        #expect(await eventually { store.state == cluster.expected })
        #expect(source.counters.relistsOnGone == 0 && source.counters.lists == 4)
    }
}
