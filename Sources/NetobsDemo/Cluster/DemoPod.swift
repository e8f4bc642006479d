/// A component of the demo placed in a lab pod: what the topology and DNS need of it.
public struct DemoPod: Sendable, Equatable {
    public let component: SockShop.Component
    public let uid: String
    public let ipv4: String
    public let ipv6: String

    public init(component: SockShop.Component, uid: String, ipv4: String, ipv6: String) {
        self.component = component
        self.uid = uid
        self.ipv4 = ipv4
        self.ipv6 = ipv6
    }

    public var name: String { component.name }
    public var namespace: String { component.namespace }
}
