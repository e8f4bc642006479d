import Foundation
import NetobsTopology

/// The topology the controller joins records with (`netobs controller --topology-file`): one
/// node (this machine) holding every pod, and a Service per component that serves. Services
/// have no cluster IP: clients reach pods through DNS, which names pod addresses (the demo
/// implements no service proxy).
public enum DemoTopology {
    public static func json(node: String, nodeIPs: [String], pods demoPods: [DemoPod]) throws -> Data {
        let pods = demoPods.map { pod in
            TopologyPod(name: pod.name, namespace: pod.namespace, uid: pod.uid, ips: [pod.ipv4, pod.ipv6], node: node,
                        hostNetwork: false, labels: ["app": pod.name], workload: "deployment/" + pod.name)
        }
        let services = demoPods.filter { $0.component.port > 0 }.map { pod in
            let protocols = pod.component.role == .dns ? ["UDP", "TCP"] : ["TCP"]
            return TopologyService(name: pod.name, namespace: pod.namespace,
                                   ports: protocols.map { TopologyServicePort(port: pod.component.port, protocol: $0, targetPort: pod.component.port) },
                                   selector: ["app": pod.name])
        }
        return try TopologyFile.json(nodes: [TopologyNode(name: node, ips: nodeIPs)], pods: pods, services: services)
    }
}
