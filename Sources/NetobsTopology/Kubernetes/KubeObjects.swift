/// The fields of Kubernetes objects the topology uses (everything else is ignored), and how
/// each becomes a model object.

struct KubeMetadata: Decodable {
    struct OwnerReference: Decodable { var kind: String; var name: String; var controller: Bool? }
    var name: String?
    var namespace: String?
    var uid: String?
    var resourceVersion: String?
    var labels: [String: String]?
    var ownerReferences: [OwnerReference]?
}

/// A Kubernetes kind the watcher follows.
protocol KubeKind: Decodable, Sendable {
    associatedtype Model: TopologyObject
    /// The collection's path, e.g. /api/v1/pods (all namespaces).
    static var path: String { get }
    var metadata: KubeMetadata { get }
    /// nil when the object is unusable (no name).
    var model: Model? { get }
}

struct KubePod: KubeKind {
    struct Spec: Decodable { var nodeName: String?; var hostNetwork: Bool? }
    struct Status: Decodable { struct IP: Decodable { var ip: String }; var podIP: String?; var podIPs: [IP]? }
    static let path = "/api/v1/pods"
    var metadata: KubeMetadata
    var spec: Spec?
    var status: Status?

    var model: TopologyPod? {
        guard let name = metadata.name, let namespace = metadata.namespace else { return nil }
        let ips = status?.podIPs?.map(\.ip) ?? status?.podIP.map { [$0] } ?? []
        return TopologyPod(name: name, namespace: namespace, uid: metadata.uid ?? "", ips: ips,
                           node: spec?.nodeName ?? "", hostNetwork: spec?.hostNetwork ?? false,
                           labels: metadata.labels ?? [:], workload: Self.workload(metadata))
    }

    /// The controller that owns the pod, followed one step where the name says it: a
    /// ReplicaSet made by a Deployment ("carts-5d9f8c7b6" with the pod-template-hash label)
    /// is the Deployment; a Job made by a CronJob ("backup-28901234") is the CronJob.
    static func workload(_ metadata: KubeMetadata) -> String {
        let owners = metadata.ownerReferences ?? []
        guard let owner = owners.first(where: { $0.controller == true }) ?? owners.first else { return "" }
        switch owner.kind {
        case "ReplicaSet":
            if let hash = metadata.labels?["pod-template-hash"], owner.name.hasSuffix("-" + hash) {
                return "deployment/" + owner.name.dropLast(hash.count + 1)
            }
        case "Job":
            if let dash = owner.name.lastIndex(of: "-"), owner.name[owner.name.index(after: dash)...].allSatisfy(\.isNumber),
               dash != owner.name.startIndex, owner.name.index(after: dash) != owner.name.endIndex {
                return "cronjob/" + owner.name[..<dash]
            }
        default: break
        }
        return owner.kind.lowercased() + "/" + owner.name
    }
}

struct KubeService: KubeKind {
    struct Port: Decodable {
        var port: Int
        var `protocol`: String?
        var targetPort: IntOrString?
    }
    struct Spec: Decodable {
        var clusterIP: String?
        var clusterIPs: [String]?
        var ports: [Port]?
        var selector: [String: String]?
    }
    static let path = "/api/v1/services"
    var metadata: KubeMetadata
    var spec: Spec?

    var model: TopologyService? {
        guard let name = metadata.name, let namespace = metadata.namespace else { return nil }
        // Headless services have clusterIP "None": no address of their own.
        let ips = (spec?.clusterIPs ?? spec?.clusterIP.map { [$0] } ?? []).filter { $0 != "None" && !$0.isEmpty }
        let ports = (spec?.ports ?? []).map {
            TopologyServicePort(port: $0.port, protocol: $0.protocol ?? "TCP", targetPort: $0.targetPort?.int)
        }
        return TopologyService(name: name, namespace: namespace, clusterIPs: ips, ports: ports, selector: spec?.selector ?? [:])
    }
}

struct KubeEndpointSlice: KubeKind {
    struct Port: Decodable { var port: Int? }
    struct Endpoint: Decodable {
        struct Conditions: Decodable { var ready: Bool? }
        struct Ref: Decodable { var kind: String?; var name: String? }
        var addresses: [String]
        var conditions: Conditions?
        var targetRef: Ref?
    }
    static let path = "/apis/discovery.k8s.io/v1/endpointslices"
    var metadata: KubeMetadata
    var ports: [Port]?
    var endpoints: [Endpoint]?

    var model: TopologyEndpointSlice? {
        guard let name = metadata.name, let namespace = metadata.namespace else { return nil }
        let endpoints = (endpoints ?? []).map { endpoint in
            TopologyEndpointSlice.Endpoint(ips: endpoint.addresses,
                                           pod: endpoint.targetRef?.kind == "Pod" ? endpoint.targetRef?.name : nil,
                                           ready: endpoint.conditions?.ready ?? true)  // unset means ready
        }
        return TopologyEndpointSlice(name: name, namespace: namespace,
                                     service: metadata.labels?["kubernetes.io/service-name"] ?? "",
                                     ports: (ports ?? []).compactMap(\.port), endpoints: endpoints)
    }
}

struct KubeNode: KubeKind {
    struct Status: Decodable { struct Address: Decodable { var type: String; var address: String }; var addresses: [Address]? }
    static let path = "/api/v1/nodes"
    var metadata: KubeMetadata
    var status: Status?

    var model: TopologyNode? {
        guard let name = metadata.name else { return nil }
        let ips = (status?.addresses ?? []).filter { $0.type == "InternalIP" || $0.type == "ExternalIP" }.map(\.address)
        return TopologyNode(name: name, ips: ips)
    }
}

/// A port given as a number or a name.
enum IntOrString: Decodable {
    case int(Int), string(String)
    var int: Int? { if case .int(let v) = self { v } else { nil } }
    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let v = try? container.decode(Int.self) { self = .int(v) } else { self = .string(try container.decode(String.self)) }
    }
}

/// A list response: the items and the resourceVersion to watch from.
struct KubeList<Kind: KubeKind>: Decodable {
    struct Metadata: Decodable { var resourceVersion: String?; var `continue`: String? }
    var metadata: Metadata
    var items: [Kind]
}

/// One line of a watch stream. `object` stays undecoded until the type says what it is.
struct KubeWatchEventHeader: Decodable {
    var type: String
}
struct KubeWatchEvent<Kind: KubeKind>: Decodable {
    var type: String
    var object: Kind
}
/// ERROR events carry a Status.
struct KubeStatusEvent: Decodable {
    struct Status: Decodable { var code: Int?; var reason: String?; var message: String? }
    var object: Status
}
/// BOOKMARK events carry only the metadata.
struct KubeBookmarkEvent: Decodable {
    struct Object: Decodable { var metadata: KubeMetadata }
    var object: Object
}
