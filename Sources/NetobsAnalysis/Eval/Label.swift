import Foundation

/// One injected fault of `labels.jsonl`.
public struct FaultLabel: Sendable, Codable, Equatable {
    public var startNs: UInt64
    public var endNs: UInt64
    public var pod: String
    public var namespace: String
    public var kind: String
    /// A partition's other end.
    public var peer: String?
    public var peerNamespace: String?

    enum CodingKeys: String, CodingKey {
        case pod, namespace, kind, peer
        case startNs = "start_ns", endNs = "end_ns", peerNamespace = "peer_namespace"
    }

    public init(startNs: UInt64, endNs: UInt64, pod: String, namespace: String, kind: String,
                peer: String? = nil, peerNamespace: String? = nil) {
        self.startNs = startNs
        self.endNs = endNs
        self.pod = pod
        self.namespace = namespace
        self.kind = kind
        self.peer = peer
        self.peerNamespace = peerNamespace
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        startNs = try c.decode(UInt64.self, forKey: .startNs)
        endNs = try c.decode(UInt64.self, forKey: .endNs)
        pod = try c.decode(String.self, forKey: .pod)
        namespace = try c.decodeIfPresent(String.self, forKey: .namespace) ?? ""
        kind = try c.decode(String.self, forKey: .kind)
        peer = try c.decodeIfPresent(String.self, forKey: .peer)
        peerNamespace = try c.decodeIfPresent(String.self, forKey: .peerNamespace)
    }

    public static func parse(line: Substring) throws -> FaultLabel {
        try JSONDecoder().decode(FaultLabel.self, from: Data(line.utf8))
    }

    /// Same pod, or a partition's peer (a partition is between two pods: naming either end
    /// names it); namespaces compared only when both are known.
    public func matches(pod other: String, namespace otherNamespace: String) -> Bool {
        func same(_ name: String, _ ns: String) -> Bool {
            name == other && (ns.isEmpty || otherNamespace.isEmpty || ns == otherNamespace)
        }
        return same(pod, namespace) || (peer.map { same($0, peerNamespace ?? namespace) } ?? false)
    }

    public func overlaps(startNs s: UInt64, endNs e: UInt64) -> Bool { s < endNs && e > startNs }
}
