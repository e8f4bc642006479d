import Foundation

/// The topology the controller joins records with (`netobs controller --topology-file`),
/// in the file schema: nodes, pods, services. Services have no cluster IP: clients reach pods
/// through DNS, which names pod addresses (the demo implements no service proxy).
public struct TopologyFile: Codable, Sendable, Equatable {
    public struct Node: Codable, Sendable, Equatable {
        public var name: String
        public var ips: [String]
    }

    public struct Pod: Codable, Sendable, Equatable {
        public var name: String
        public var namespace: String
        public var uid: String
        public var ips: [String]
        public var node: String
        public var hostNetwork: Bool
        public var labels: [String: String]
        public var workload: String

        enum CodingKeys: String, CodingKey {
            case name, namespace, uid, ips, node, labels, workload
            case hostNetwork = "host_network"
        }
    }

    public struct ServicePort: Codable, Sendable, Equatable {
        public var port: Int
        public var `protocol`: String
        public var targetPort: Int

        enum CodingKeys: String, CodingKey {
            case port, `protocol`
            case targetPort = "target_port"
        }
    }

    public struct Service: Codable, Sendable, Equatable {
        public var name: String
        public var namespace: String
        public var clusterIPs: [String]
        public var ports: [ServicePort]
        public var selector: [String: String]

        enum CodingKeys: String, CodingKey {
            case name, namespace, ports, selector
            case clusterIPs = "cluster_ips"
        }
    }

    public var nodes: [Node]
    public var pods: [Pod]
    public var services: [Service]

    /// One node (this machine) holding every pod; a Service per component that serves.
    public init(node: String, nodeIPs: [String], pods demoPods: [DemoPod]) {
        nodes = [Node(name: node, ips: nodeIPs)]
        pods = demoPods.map { pod in
            Pod(name: pod.name, namespace: pod.namespace, uid: pod.uid, ips: [pod.ipv4, pod.ipv6], node: node,
                hostNetwork: false, labels: ["app": pod.name], workload: "deployment/" + pod.name)
        }
        services = demoPods.filter { $0.component.port > 0 }.map { pod in
            let protocols = pod.component.role == .dns ? ["UDP", "TCP"] : ["TCP"]
            return Service(name: pod.name, namespace: pod.namespace, clusterIPs: [],
                           ports: protocols.map { ServicePort(port: pod.component.port, protocol: $0, targetPort: pod.component.port) },
                           selector: ["app": pod.name])
        }
    }

    public func json() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return try encoder.encode(self)
    }
}
