/// The demo application: which pods exist, what runs in each, what they serve and whom they
/// call. Pure data; `DemoCluster` makes it real.
public enum SockShop {
    public static let appNamespace = "sock-shop"
    public static let dnsNamespace = "kube-system"
    public static let loadNamespace = "loadgen"
    /// Cluster DNS domain, as in Kubernetes.
    public static let clusterDomain = "cluster.local"

    public enum Role: Sendable, Equatable {
        /// scripts/demo-app/service.py --service <name>, HTTP on `port`.
        case service
        /// redis-server.
        case redis
        /// dnsmasq answering the cluster's names.
        case dns
        /// wrk driving the front-end.
        case loadGenerator
    }

    public struct Component: Sendable, Equatable {
        public let name: String
        public let namespace: String
        public let role: Role
        /// The serving port (TCP; kube-dns serves UDP and TCP).
        public let port: Int
        /// Short names of the components it calls by DNS (what a DNS fault can break).
        public let calls: [String]

        /// Its service's DNS name.
        public var fqdn: String { "\(name).\(namespace).svc.\(SockShop.clusterDomain)" }
    }

    public static let components: [Component] = [
        Component(name: "front-end", namespace: appNamespace, role: .service, port: 80,
                  calls: ["catalogue", "carts", "orders", "user"]),
        Component(name: "catalogue", namespace: appNamespace, role: .service, port: 80, calls: []),
        Component(name: "carts", namespace: appNamespace, role: .service, port: 80, calls: ["carts-db"]),
        Component(name: "carts-db", namespace: appNamespace, role: .redis, port: 6379, calls: []),
        Component(name: "orders", namespace: appNamespace, role: .service, port: 80,
                  calls: ["user", "carts", "payment", "shipping"]),
        Component(name: "payment", namespace: appNamespace, role: .service, port: 80, calls: []),
        Component(name: "shipping", namespace: appNamespace, role: .service, port: 80, calls: []),
        Component(name: "user", namespace: appNamespace, role: .service, port: 80, calls: []),
        Component(name: "kube-dns", namespace: dnsNamespace, role: .dns, port: 53, calls: []),
        Component(name: "load-generator", namespace: loadNamespace, role: .loadGenerator, port: 0,
                  calls: ["front-end"]),
    ]

    public static func component(_ name: String, namespace: String) -> Component? {
        components.first { $0.name == name && $0.namespace == namespace }
    }

    /// Components that call `name` by DNS.
    public static func callers(of name: String) -> [Component] {
        components.filter { $0.calls.contains(name) }
    }

    /// Components that `name` calls or that call it: who it exchanges packets with (kube-dns
    /// for every component that calls another by name).
    public static func peers(of name: String) -> [Component] {
        guard let component = components.first(where: { $0.name == name }) else { return [] }
        return components.filter { other in
            other.name != name && (component.calls.contains(other.name) || other.calls.contains(name)
                || (other.role == .dns && !component.calls.isEmpty) || (component.role == .dns && !other.calls.isEmpty))
        }
    }

    /// Which faults make sense on a component, and why not when they do not.
    public static func refusal(of kind: FaultKind, on component: Component) -> String? {
        switch (kind, component.role) {
        case (_, .loadGenerator):
            return "the load generator is the demo's client, not part of the application"
        case (.loss, _), (.bandwidth, _):
            return nil
        case (.delay, .service):
            return nil
        case (.delay, _):
            return "delay is injected by the demo application, and \(component.name) does not run it; use loss or reset"
        case (.reset, .dns):
            return "kube-dns is reached over UDP; use loss"
        case (.reset, _):
            return nil
        case (.dns, _) where callers(of: component.name).allSatisfy({ $0.role == .loadGenerator }):
            return "only the load generator resolves \(component.name), once at its start, so a DNS fault would have no effect"
        case (.dns, .dns):
            return "kube-dns is the resolver itself; use loss"
        case (.dns, _):
            return nil
        case (.kill, .dns):
            return "the demo restarts application pods only; use loss on kube-dns"
        case (.kill, _):
            return nil
        case (.cpu, .service):
            return nil
        case (.cpu, _):
            return "\(component.name) uses too little CPU at the demo's load for a CPU cap to show; use delay or loss"
        case (.partition(let peer, let namespace), _):
            guard let other = SockShop.component(peer, namespace: namespace) else {
                return "unknown peer \(namespace)/\(peer)"
            }
            if other == component { return "a pod cannot be partitioned from itself" }
            if !peers(of: component.name).contains(other) {
                return "\(component.name) and \(peer) do not talk to each other, so a partition between them would have no effect"
            }
            return nil
        }
    }
}
