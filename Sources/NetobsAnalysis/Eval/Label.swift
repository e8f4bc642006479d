import Foundation

/// One injected fault of `labels.jsonl`.
public struct FaultLabel: Sendable, Codable, Equatable {
    public var startNs: UInt64
    public var endNs: UInt64
    public var pod: String
    public var namespace: String
    public var kind: String

    enum CodingKeys: String, CodingKey {
        case pod, namespace, kind
        case startNs = "start_ns", endNs = "end_ns"
    }

    public init(startNs: UInt64, endNs: UInt64, pod: String, namespace: String, kind: String) {
        self.startNs = startNs
        self.endNs = endNs
        self.pod = pod
        self.namespace = namespace
        self.kind = kind
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        startNs = try c.decode(UInt64.self, forKey: .startNs)
        endNs = try c.decode(UInt64.self, forKey: .endNs)
        pod = try c.decode(String.self, forKey: .pod)
        namespace = try c.decodeIfPresent(String.self, forKey: .namespace) ?? ""
        kind = try c.decode(String.self, forKey: .kind)
    }

    public static func parse(line: Substring) throws -> FaultLabel {
        try JSONDecoder().decode(FaultLabel.self, from: Data(line.utf8))
    }

    /// Same pod; namespaces compared only when both are known.
    public func matches(pod other: String, namespace otherNamespace: String) -> Bool {
        pod == other && (namespace.isEmpty || otherNamespace.isEmpty || namespace == otherNamespace)
    }

    public func overlaps(startNs s: UInt64, endNs e: UInt64) -> Bool { s < endNs && e > startNs }
}
