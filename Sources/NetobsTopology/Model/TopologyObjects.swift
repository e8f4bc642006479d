/// The topology the join needs, in the shape every source fills in (the file source and the
/// Kubernetes client): plain values, no source-specific detail.

public struct TopologyPod: Sendable, Equatable, Codable {
    public var name: String
    public var namespace: String
    public var uid: String
    public var ips: [String]
    public var node: String
    public var hostNetwork: Bool
    public var labels: [String: String]
    /// The owning workload, e.g. "deployment/carts" (the Deployment behind a ReplicaSet) or
    /// "daemonset/netobs-agent"; empty for a bare pod.
    public var workload: String

    public init(name: String, namespace: String, uid: String = "", ips: [String] = [], node: String = "",
                hostNetwork: Bool = false, labels: [String: String] = [:], workload: String = "") {
        self.name = name
        self.namespace = namespace
        self.uid = uid
        self.ips = ips
        self.node = node
        self.hostNetwork = hostNetwork
        self.labels = labels
        self.workload = workload
    }

    public var key: ObjectKey { ObjectKey(namespace: namespace, name: name) }
}

public struct TopologyServicePort: Sendable, Equatable, Codable {
    public var port: Int
    /// "TCP", "UDP" or "SCTP".
    public var `protocol`: String
    /// The port on the pods, when it is a number (a named port is resolved by endpoint slices).
    public var targetPort: Int?

    public init(port: Int, protocol: String = "TCP", targetPort: Int? = nil) {
        self.port = port
        self.protocol = `protocol`
        self.targetPort = targetPort
    }
}

public struct TopologyService: Sendable, Equatable, Codable {
    public var name: String
    public var namespace: String
    public var clusterIPs: [String]
    public var ports: [TopologyServicePort]
    public var selector: [String: String]

    public init(name: String, namespace: String, clusterIPs: [String] = [], ports: [TopologyServicePort] = [],
                selector: [String: String] = [:]) {
        self.name = name
        self.namespace = namespace
        self.clusterIPs = clusterIPs
        self.ports = ports
        self.selector = selector
    }

    public var key: ObjectKey { ObjectKey(namespace: namespace, name: name) }
}

/// One EndpointSlice: which pod addresses back a service, on which ports.
public struct TopologyEndpointSlice: Sendable, Equatable, Codable {
    public struct Endpoint: Sendable, Equatable, Codable {
        public var ips: [String]
        /// The backing pod's name (`targetRef`), when the slice names one.
        public var pod: String?
        public var ready: Bool

        public init(ips: [String], pod: String? = nil, ready: Bool = true) {
            self.ips = ips
            self.pod = pod
            self.ready = ready
        }
    }

    public var name: String
    public var namespace: String
    public var service: String
    public var ports: [Int]
    public var endpoints: [Endpoint]

    public init(name: String, namespace: String, service: String, ports: [Int], endpoints: [Endpoint]) {
        self.name = name
        self.namespace = namespace
        self.service = service
        self.ports = ports
        self.endpoints = endpoints
    }

    public var key: ObjectKey { ObjectKey(namespace: namespace, name: name) }
}

public struct TopologyNode: Sendable, Equatable, Codable {
    public var name: String
    public var ips: [String]

    public init(name: String, ips: [String]) {
        self.name = name
        self.ips = ips
    }

    public var key: ObjectKey { ObjectKey(namespace: "", name: name) }
}

/// Namespace and name: how the cache names objects (nodes have an empty namespace).
public struct ObjectKey: Sendable, Hashable, Comparable, Codable, CustomStringConvertible {
    public var namespace: String
    public var name: String

    public init(namespace: String, name: String) {
        self.namespace = namespace
        self.name = name
    }

    public var description: String { namespace.isEmpty ? name : "\(namespace)/\(name)" }

    public static func < (a: ObjectKey, b: ObjectKey) -> Bool {
        (a.namespace, a.name) < (b.namespace, b.name)
    }
}
