/// Everything a source knows at one moment, keyed by namespace/name.
public struct TopologyState: Sendable, Equatable {
    public var pods: [ObjectKey: TopologyPod] = [:]
    public var services: [ObjectKey: TopologyService] = [:]
    public var endpointSlices: [ObjectKey: TopologyEndpointSlice] = [:]
    public var nodes: [ObjectKey: TopologyNode] = [:]

    public init() {}

    public init(pods: [TopologyPod] = [], services: [TopologyService] = [],
                endpointSlices: [TopologyEndpointSlice] = [], nodes: [TopologyNode] = []) {
        for pod in pods { self.pods[pod.key] = pod }
        for service in services { self.services[service.key] = service }
        for slice in endpointSlices { self.endpointSlices[slice.key] = slice }
        for node in nodes { self.nodes[node.key] = node }
    }
}

/// An object the cache holds: its key, and where it lives in `TopologyState`.
public protocol TopologyObject: Sendable, Equatable {
    var key: ObjectKey { get }
    static var storage: WritableKeyPath<TopologyState, [ObjectKey: Self]> { get }
}

extension TopologyPod: TopologyObject {
    public static var storage: WritableKeyPath<TopologyState, [ObjectKey: TopologyPod]> { \.pods }
}
extension TopologyService: TopologyObject {
    public static var storage: WritableKeyPath<TopologyState, [ObjectKey: TopologyService]> { \.services }
}
extension TopologyEndpointSlice: TopologyObject {
    public static var storage: WritableKeyPath<TopologyState, [ObjectKey: TopologyEndpointSlice]> { \.endpointSlices }
}
extension TopologyNode: TopologyObject {
    public static var storage: WritableKeyPath<TopologyState, [ObjectKey: TopologyNode]> { \.nodes }
}
