import Foundation
import Testing
import NetobsController
import NetobsTopology

@Suite struct TopologyJoinerTests {
    static let state = TopologyState(
        pods: [
            TopologyPod(name: "front-end-1", namespace: "shop", uid: "f1", ips: ["10.1.0.2", "fd00::2"], node: "node-1",
                        labels: ["app": "front-end"], workload: "deployment/front-end"),
            TopologyPod(name: "carts-1", namespace: "shop", uid: "c1", ips: ["10.1.0.5"], node: "node-1", labels: ["app": "carts"]),
            TopologyPod(name: "orders-1", namespace: "shop", uid: "o1", ips: ["10.1.0.6"], labels: ["app": "orders"]),
            TopologyPod(name: "orders-2", namespace: "shop", uid: "o2", ips: ["10.1.0.7"], labels: ["app": "orders"]),
            TopologyPod(name: "agent-x", namespace: "netobs", uid: "h1", ips: ["192.168.50.1"], node: "node-1", hostNetwork: true),
        ],
        services: [
            TopologyService(name: "carts", namespace: "shop", clusterIPs: ["10.96.0.5"], ports: [.init(port: 80, targetPort: 8080)]),
            TopologyService(name: "orders", namespace: "shop", clusterIPs: ["10.96.0.6"], ports: [.init(port: 80, targetPort: 8080)]),
        ],
        endpointSlices: [
            TopologyEndpointSlice(name: "carts-a", namespace: "shop", service: "carts", ports: [8080], endpoints: [.init(ips: ["10.1.0.5"], pod: "carts-1")]),
            TopologyEndpointSlice(name: "orders-a", namespace: "shop", service: "orders", ports: [8080],
                                  endpoints: [.init(ips: ["10.1.0.6"]), .init(ips: ["10.1.0.7"])]),
        ],
        nodes: [TopologyNode(name: "node-1", ips: ["192.168.50.1"])])

    func joiner(_ clock: TestClock = TestClock()) -> (TopologyJoiner, TopologyStore) {
        let store = TopologyStore(gracePeriodNs: 60_000_000_000, clock: clock.now)
        store.replace(with: Self.state)
        return (TopologyJoiner(store: store, minRebuildInterval: .zero, clock: clock.now), store)
    }

    func record(_ src: String, _ sport: Int, _ dst: String, _ dport: Int, extra: String = "") -> [UInt8] {
        Array(#"{"kind":"tcp","ts_ns":1,"node":"node-1","pid":7,"comm":"x","cgroup_id":9,"src_ip":"\#(src)","src_port":\#(sport),"dst_ip":"\#(dst)","dst_port":\#(dport)\#(extra),"tcp_tx_bytes":100}"#.utf8)
    }

    /// The joined record as a dictionary; also proves it is valid JSON and kept every field.
    func fields(_ joined: [UInt8], original: [UInt8]) throws -> [String: String] {
        let object = try #require(try JSONSerialization.jsonObject(with: Data(joined)) as? [String: Any])
        let before = try #require(try JSONSerialization.jsonObject(with: Data(original)) as? [String: Any])
        let canonical = { (value: Any) in try JSONSerialization.data(withJSONObject: ["v": value], options: [.sortedKeys]) }
        for (key, value) in before { #expect(try canonical(object[key] as Any) == canonical(value), "field \(key) kept") }
        return object.filter { before[$0.key] == nil }.mapValues { "\($0)" }
    }

    @Test func podToPodGetsBothSides() throws {
        let (joiner, _) = joiner()
        let input = record("10.1.0.2", 40000, "10.1.0.5", 8080)
        #expect(try fields(joiner.join(input), original: input) == [
            "src_pod": "front-end-1", "src_ns": "shop", "src_workload": "deployment/front-end", "src_node": "node-1",
            "dst_pod": "carts-1", "dst_ns": "shop", "dst_node": "node-1", "dst_service": "carts",
        ])
    }

    @Test func serverSideRecordsNameTheirOwnService() throws {
        let (joiner, _) = joiner()
        let input = record("10.1.0.6", 8080, "10.1.0.2", 40000)
        let added = try fields(joiner.join(input), original: input)
        #expect(added["src_pod"] == "orders-1" && added["src_service"] == "orders" && added["dst_pod"] == "front-end-1")
        #expect(added["dst_service"] == nil)
    }

    @Test func clusterIPsGiveTheServiceAndTheBackendWhenOnlyOneCanBe() throws {
        let (joiner, _) = joiner()
        let toCarts = record("10.1.0.2", 40000, "10.96.0.5", 80)
        let carts = try fields(joiner.join(toCarts), original: toCarts)
        #expect(carts["dst_service"] == "carts" && carts["dst_pod"] == "carts-1" && carts["dst_ns"] == "shop")
        let toOrders = record("10.1.0.2", 40001, "10.96.0.6", 80)
        let orders = try fields(joiner.join(toOrders), original: toOrders)
        #expect(orders["dst_service"] == "orders" && orders["dst_pod"] == "service:orders" && orders["dst_ns"] == "shop")
    }

    @Test func nodesExternalAndHostNetworkPods() throws {
        let (joiner, _) = joiner()
        let toWorld = record("192.168.50.1", 5000, "8.8.8.8", 53)
        let world = try fields(joiner.join(toWorld), original: toWorld)
        #expect(world == ["src_pod": "node:node-1", "src_ns": "", "src_node": "node-1", "dst_pod": "external", "dst_ns": ""])
        let hostPod = record("192.168.50.1", 5000, "10.1.0.5", 8080, extra: #","pod_uid":"h1""#)
        let host = try fields(joiner.join(hostPod), original: hostPod)
        #expect(host["src_pod"] == "agent-x" && host["src_ns"] == "netobs" && host["dst_pod"] == "carts-1")
    }

    @Test func ipv6AndMappedAddresses() throws {
        let (joiner, _) = joiner()
        let v6 = record("fd00:0:0::2", 1, "::ffff:10.1.0.5", 8080)
        let added = try fields(joiner.join(v6), original: v6)
        #expect(added["src_pod"] == "front-end-1" && added["dst_pod"] == "carts-1")
    }

    @Test func deletedPodsJoinDuringTheGracePeriodAndLiveOnesWinTheirAddress() throws {
        let clock = TestClock()
        let (joiner, store) = joiner(clock)
        store.delete(TopologyPod.self, ObjectKey(namespace: "shop", name: "carts-1"))
        let input = record("10.1.0.2", 40000, "10.1.0.5", 8080)
        #expect(try fields(joiner.join(input), original: input)["dst_pod"] == "carts-1")
        clock.advance(seconds: 61)
        #expect(try fields(joiner.join(input), original: input)["dst_pod"] == "external")

        store.delete(TopologyPod.self, ObjectKey(namespace: "shop", name: "orders-1"))
        store.upsert(TopologyPod(name: "orders-9", namespace: "shop", ips: ["10.1.0.6"]))
        let reused = record("10.1.0.2", 40000, "10.1.0.6", 8080)
        #expect(try fields(joiner.join(reused), original: reused)["dst_pod"] == "orders-9")
    }

    @Test func rebuildsAreSpacedUnderChurn() throws {
        let clock = TestClock()
        let store = TopologyStore(clock: clock.now)
        store.replace(with: Self.state)
        let joiner = TopologyJoiner(store: store, minRebuildInterval: .seconds(1), clock: clock.now)
        let input = record("10.1.0.2", 1, "10.1.0.99", 2)
        #expect(try fields(joiner.join(input), original: input)["dst_pod"] == "external")
        store.upsert(TopologyPod(name: "new", namespace: "shop", ips: ["10.1.0.99"]))
        #expect(try fields(joiner.join(input), original: input)["dst_pod"] == "external", "built less than 1 s ago")
        clock.advance(seconds: 1)
        #expect(try fields(joiner.join(input), original: input)["dst_pod"] == "new")
    }

    @Test func nothingIsDroppedAndOddRecordsPassUnchanged() {
        let (joiner, _) = joiner()
        let loss = Array(#"{"kind":"loss","what":"ring_buffer","count":3}"#.utf8)
        let broken = Array(#"{"kind":"tcp","src_ip":"10.1.0.2""#.utf8)
        let joined = joiner.join(record("10.1.0.2", 1, "10.1.0.5", 2))
        let batch = [loss, broken, joined, Array("[]".utf8), []]
        #expect(joiner.join(batch) == batch)
        #expect(joiner.counts == .init(joined: 1, withoutAddresses: 1, alreadyJoined: 1, malformed: 3))
    }

    @Test func namesAreEscapedAndTrailingNewlinesKept() throws {
        let store = TopologyStore()
        store.upsert(TopologyPod(name: #"we"ird"#, namespace: "n\\s", ips: ["10.0.0.1"]))
        let joiner = TopologyJoiner(store: store, minRebuildInterval: .zero)
        let input = Array(#"{"src_ip":"10.0.0.1","dst_ip":"not an ip"}"#.utf8) + [10]
        let out = joiner.join(input)
        #expect(out.last == 10)
        let added = try fields(Array(out.dropLast()), original: Array(input.dropLast()))
        #expect(added == ["src_pod": #"we"ird"#, "src_ns": "n\\s", "dst_pod": "external", "dst_ns": ""])
    }

    @Test func onlyTopLevelFieldsCount() throws {
        let (joiner, _) = joiner()
        let input = Array(#"{"http_request_uri":"/x\"src_ip\":\"10.1.0.5\\","meta":{"src_ip":"10.1.0.5","a":[1,"}"]},"src_ip":"10.1.0.2","dst_ip":"10.1.0.6"}"#.utf8)
        let added = try fields(joiner.join(input), original: input)
        #expect(added["src_pod"] == "front-end-1" && added["dst_pod"] == "orders-1")
        let trailing = Array(#"{"src_ip":"10.1.0.2"} x"#.utf8)
        #expect(joiner.join(trailing) == trailing && joiner.counts.malformed == 1)
    }

    @Test func spacedJSONFromOtherProducersJoinsToo() throws {
        let (joiner, _) = joiner()
        let input = Array(#"{ "comm": "src_ip", "src_ip" : "10.1.0.2", "dst_ip": "10.1.0.5" }"#.utf8)
        let added = try fields(joiner.join(input), original: input)
        #expect(added["src_pod"] == "front-end-1" && added["dst_pod"] == "carts-1")
    }
}
