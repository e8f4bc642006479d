import Foundation

/// The file's wire shape (snake_case, optional fields), turned into the model by `topology()`.
struct TopologyFileDocument: Codable {
    struct Node: Codable { var name: String; var ips: [String]? }
    struct Pod: Codable {
        var name: String, namespace: String
        var uid: String?, ips: [String]?, node: String?, host_network: Bool?
        var labels: [String: String]?, workload: String?
    }
    struct Port: Codable { var port: Int; var `protocol`: String?; var target_port: Int? }
    struct Service: Codable {
        var name: String, namespace: String
        var cluster_ips: [String]?, ports: [Port]?, selector: [String: String]?
    }
    struct Endpoints: Codable {
        var service: String, namespace: String
        var ports: [Int]?, pods: [String]?, ips: [String]?
    }
    var nodes: [Node]?
    var pods: [Pod]?
    var services: [Service]?
    var endpoints: [Endpoints]?

    init(nodes: [TopologyNode], pods: [TopologyPod], services: [TopologyService]) {
        self.nodes = nodes.map { Node(name: $0.name, ips: $0.ips) }
        self.pods = pods.map {
            Pod(name: $0.name, namespace: $0.namespace, uid: $0.uid, ips: $0.ips, node: $0.node, host_network: $0.hostNetwork,
                labels: $0.labels, workload: $0.workload)
        }
        self.services = services.map {
            Service(name: $0.name, namespace: $0.namespace, cluster_ips: $0.clusterIPs,
                    ports: $0.ports.map { Port(port: $0.port, protocol: $0.protocol, target_port: $0.targetPort) },
                    selector: $0.selector)
        }
    }

    func topology() throws -> TopologyState {
        let pods = (pods ?? []).map {
            TopologyPod(name: $0.name, namespace: $0.namespace, uid: $0.uid ?? "", ips: $0.ips ?? [],
                        node: $0.node ?? "", hostNetwork: $0.host_network ?? false, labels: $0.labels ?? [:],
                        workload: $0.workload ?? "")
        }
        let services = (services ?? []).map {
            TopologyService(name: $0.name, namespace: $0.namespace, clusterIPs: $0.cluster_ips ?? [],
                            ports: ($0.ports ?? []).map { .init(port: $0.port, protocol: $0.protocol ?? "TCP", targetPort: $0.target_port) },
                            selector: $0.selector ?? [:])
        }
        var state = TopologyState(pods: pods, services: services,
                                  nodes: (nodes ?? []).map { TopologyNode(name: $0.name, ips: $0.ips ?? []) })
        guard state.pods.count == pods.count else { throw TopologyError("two pods have the same namespace and name") }
        guard state.services.count == services.count else { throw TopologyError("two services have the same namespace and name") }
        if let endpoints {
            for (i, entry) in endpoints.enumerated() {
                guard let service = state.services[ObjectKey(namespace: entry.namespace, name: entry.service)] else {
                    throw TopologyError("endpoints[\(i)]: no service \(entry.namespace)/\(entry.service)")
                }
                var list: [TopologyEndpointSlice.Endpoint] = try (entry.pods ?? []).map { name in
                    guard let pod = state.pods[ObjectKey(namespace: entry.namespace, name: name)] else {
                        throw TopologyError("endpoints[\(i)]: no pod \(entry.namespace)/\(name)")
                    }
                    return .init(ips: pod.ips, pod: pod.name)
                }
                list += (entry.ips ?? []).map { .init(ips: [$0]) }
                let slice = TopologyEndpointSlice(name: "\(entry.service)-\(i)", namespace: entry.namespace, service: entry.service,
                                                  ports: entry.ports ?? service.ports.map { $0.targetPort ?? $0.port }, endpoints: list)
                state.endpointSlices[slice.key] = slice
            }
        } else {
            for service in state.services.values {
                if let slice = TopologyFile.selectedEndpoints(service, pods: pods) { state.endpointSlices[slice.key] = slice }
            }
        }
        return state
    }
}
