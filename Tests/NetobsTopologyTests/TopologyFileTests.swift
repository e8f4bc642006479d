import Foundation
import Testing
@testable import NetobsTopology

@Suite struct TopologyFileTests {
    static let json = """
    {"nodes": [{"name": "node-1", "ips": ["192.168.50.1"]}],
     "pods": [{"name": "carts-1", "namespace": "shop", "uid": "c1", "ips": ["10.1.0.5"], "node": "node-1",
               "labels": {"app": "carts"}, "workload": "deployment/carts"},
              {"name": "carts-2", "namespace": "shop", "ips": ["10.1.0.6"], "labels": {"app": "carts", "v": "2"}},
              {"name": "carts-x", "namespace": "other", "ips": ["10.1.0.7"], "labels": {"app": "carts"}},
              {"name": "agent", "namespace": "netobs", "uid": "a1", "ips": ["192.168.50.1"], "host_network": true}],
     "services": [{"name": "carts", "namespace": "shop", "cluster_ips": ["10.96.0.12"],
                   "ports": [{"port": 80, "target_port": 8080}], "selector": {"app": "carts"}}]}
    """

    @Test func writtenFileReadsBackAsTheSameTopology() throws {
        let original = try TopologyFile.parse(Data(Self.json.utf8), yaml: false).state
        let written = try TopologyFile.json(nodes: Array(original.nodes.values), pods: Array(original.pods.values),
                                            services: Array(original.services.values))
        #expect(try TopologyFile.parse(written, yaml: false).state == original)
    }

    @Test func parsesJSONAndDerivesEndpointsFromSelectors() throws {
        let state = try TopologyFile.parse(Data(Self.json.utf8), yaml: false).state
        #expect(state.nodes.count == 1 && state.pods.count == 4 && state.services.count == 1)
        let carts = try #require(state.pods[ObjectKey(namespace: "shop", name: "carts-1")])
        #expect(carts == TopologyPod(name: "carts-1", namespace: "shop", uid: "c1", ips: ["10.1.0.5"], node: "node-1",
                                     labels: ["app": "carts"], workload: "deployment/carts"))
        #expect(state.pods[ObjectKey(namespace: "netobs", name: "agent")]?.hostNetwork == true)
        let service = try #require(state.services.values.first)
        #expect(service.ports == [TopologyServicePort(port: 80, protocol: "TCP", targetPort: 8080)])
        let slice = try #require(state.endpointSlices.values.first)
        #expect(slice.service == "carts" && slice.ports == [8080])
        // Same namespace and matching labels only: not carts-x of namespace "other".
        #expect(slice.endpoints.map(\.pod) == ["carts-1", "carts-2"])
    }

    @Test func yamlReadsTheSameAsJSON() throws {
        let yaml = """
        nodes: [{name: node-1, ips: [192.168.50.1]}]
        pods:
          - {name: carts-1, namespace: shop, uid: c1, ips: [10.1.0.5], node: node-1, labels: {app: carts}, workload: deployment/carts}
          - {name: carts-2, namespace: shop, ips: [10.1.0.6], labels: {app: carts, v: "2"}}
          - {name: carts-x, namespace: other, ips: [10.1.0.7], labels: {app: carts}}
          - {name: agent, namespace: netobs, uid: a1, ips: [192.168.50.1], host_network: true}
        services:
          - {name: carts, namespace: shop, cluster_ips: [10.96.0.12], ports: [{port: 80, target_port: 8080}], selector: {app: carts}}
        """
        #expect(try TopologyFile.parse(Data(yaml.utf8), yaml: true) == TopologyFile.parse(Data(Self.json.utf8), yaml: false))
    }

    @Test func explicitEndpointsNamePods() throws {
        let json = """
        {"pods": [{"name": "db", "namespace": "shop", "ips": ["10.1.0.9"]}],
         "services": [{"name": "db", "namespace": "shop", "cluster_ips": ["10.96.0.9"], "ports": [{"port": 6379}]}],
         "endpoints": [{"service": "db", "namespace": "shop", "pods": ["db"]}]}
        """
        let slice = try #require(TopologyFile.parse(Data(json.utf8), yaml: false).state.endpointSlices.values.first)
        #expect(slice.endpoints == [.init(ips: ["10.1.0.9"], pod: "db")] && slice.ports == [6379])
    }

    @Test func errorsSayWhereAndWhat() {
        #expect(throws: TopologyError(".pods[1].namespace: missing")) {
            try TopologyFile.parse(Data(#"{"pods":[{"name":"a","namespace":"x"},{"name":"b"}]}"#.utf8), yaml: false)
        }
        #expect(throws: TopologyError("endpoints[0]: no pod shop/ghost")) {
            try TopologyFile.parse(Data(#"""
            {"services":[{"name":"s","namespace":"shop"}],"endpoints":[{"service":"s","namespace":"shop","pods":["ghost"]}]}
            """#.utf8), yaml: false)
        }
        #expect(throws: TopologyError("two pods have the same namespace and name")) {
            try TopologyFile.parse(Data(#"{"pods":[{"name":"a","namespace":"x"},{"name":"a","namespace":"x"}]}"#.utf8), yaml: false)
        }
    }

    @Test func sourceReloadsOnChangeAndKeepsTheLastGoodTopology() async throws {
        let path = NSTemporaryDirectory() + "netobs-topology-\(UUID().uuidString).json"
        defer { try? FileManager.default.removeItem(atPath: path) }
        try Data(Self.json.utf8).write(to: URL(fileURLWithPath: path))
        let store = TopologyStore()
        let source = FileTopologySource(path: path, store: store, pollInterval: .milliseconds(50))
        try source.start()
        defer { source.stop() }
        #expect(store.state.pods.count == 4)

        try Data(#"{"pods":[{"name":"solo","namespace":"x","ips":["10.2.0.1"]}]}"#.utf8).write(to: URL(fileURLWithPath: path))
        #expect(await eventually { store.state.pods.count == 1 })
        #expect(store.view().recentlyDeleted.count == 4, "pods gone from the file are recently deleted")

        try Data("{not json".utf8).write(to: URL(fileURLWithPath: path))
        #expect(await eventually { source.loadErrors > 0 })
        #expect(store.state.pods.keys.map(\.name) == ["solo"])

        try Data(Self.json.utf8).write(to: URL(fileURLWithPath: path))
        #expect(await eventually { store.state.pods.count == 4 })
    }

    @Test func aBadFileAtStartIsAnError() {
        let store = TopologyStore()
        #expect(throws: TopologyError.self) {
            try FileTopologySource(path: "/nonexistent/topology.json", store: store).start()
        }
    }
}
