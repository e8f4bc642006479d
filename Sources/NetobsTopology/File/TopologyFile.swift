import Foundation
import Yams

/// The topology file: a cluster described by hand or by a tool (the node lab, the demo).
/// JSON, or YAML when the name ends in .yaml/.yml. See docs/topology-file.md.
///
/// ```json
/// {"nodes":    [{"name": "node-1", "ips": ["10.0.0.1"]}],
///  "pods":     [{"name": "carts-1", "namespace": "shop", "uid": "0b6c…", "ips": ["10.1.0.5"],
///                "node": "node-1", "host_network": false, "labels": {"app": "carts"},
///                "workload": "deployment/carts"}],
///  "services": [{"name": "carts", "namespace": "shop", "cluster_ips": ["10.96.0.12"],
///                "ports": [{"port": 80, "protocol": "TCP", "target_port": 8080}],
///                "selector": {"app": "carts"}}],
///  "endpoints": [{"service": "carts", "namespace": "shop", "ports": [8080],
///                 "pods": ["carts-1"]}]}
/// ```
/// Only `name` (and `namespace` for pods and services) is required. Without `endpoints`, a
/// service's backends are the pods of its namespace whose labels match its selector, on its
/// target ports, as Kubernetes' endpoint controller would compute them.
public struct TopologyFile: Sendable, Equatable {
    public var state: TopologyState

    public init(state: TopologyState) { self.state = state }

    public static func parse(_ data: Data, yaml: Bool) throws -> TopologyFile {
        let document: TopologyFileDocument
        do {
            if yaml {
                document = try YAMLDecoder().decode(TopologyFileDocument.self, from: String(decoding: data, as: UTF8.self))
            } else {
                document = try JSONDecoder().decode(TopologyFileDocument.self, from: data)
            }
        } catch let error as DecodingError {
            throw TopologyError("\(DecodingErrorText.describe(error))")
        } catch {
            throw TopologyError("not valid \(yaml ? "YAML" : "JSON"): \(error)")
        }
        return TopologyFile(state: try document.topology())
    }

    /// The file form of nodes, pods and services, without `endpoints`: a reader derives each
    /// service's backends from its selector. What the node lab and the demo write.
    public static func json(nodes: [TopologyNode], pods: [TopologyPod], services: [TopologyService]) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return try encoder.encode(TopologyFileDocument(nodes: nodes, pods: pods, services: services))
    }

    public static func load(path: String) throws -> TopologyFile {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw TopologyError("cannot read topology file \(path)")
        }
        do {
            return try parse(data, yaml: path.hasSuffix(".yaml") || path.hasSuffix(".yml"))
        } catch let error as TopologyError {
            throw TopologyError("topology file \(path): \(error.message)")
        }
    }

    /// The endpoints a selector yields: matching pods of the service's namespace, ready, on the
    /// service's target ports (its ports when no target port is given).
    static func selectedEndpoints(_ service: TopologyService, pods: [TopologyPod]) -> TopologyEndpointSlice? {
        guard !service.selector.isEmpty else { return nil }
        let backends = pods.filter { pod in
            pod.namespace == service.namespace && service.selector.allSatisfy { pod.labels[$0.key] == $0.value }
        }.sorted { $0.name < $1.name }
        return TopologyEndpointSlice(
            name: service.name + "-selected", namespace: service.namespace, service: service.name,
            ports: service.ports.map { $0.targetPort ?? $0.port },
            endpoints: backends.map { .init(ips: $0.ips, pod: $0.name) })
    }
}

public struct TopologyError: Error, Sendable, CustomStringConvertible, Equatable {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

enum DecodingErrorText {
    static func describe(_ error: DecodingError) -> String {
        func path(_ codingPath: [any CodingKey]) -> String {
            codingPath.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
        }
        switch error {
        case .keyNotFound(let key, let context):
            return "\(path(context.codingPath + [key])): missing"
        case .typeMismatch(let type, let context):
            return "\(path(context.codingPath)): expected \(type)"
        case .valueNotFound(let type, let context):
            return "\(path(context.codingPath)): expected \(type), found null"
        case .dataCorrupted(let context):
            return "\(path(context.codingPath)): \(context.debugDescription)"
        @unknown default:
            return "\(error)"
        }
    }
}
