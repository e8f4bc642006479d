import Foundation

/// One line of labels.jsonl (DESIGN.md): when a fault was really in place, on which pod, of
/// which kind. `params` is what the scenario asked for, `effect` what the injector measured
/// (e.g. the packets iptables dropped); the detector never reads either. A partition also
/// names its `peer` (and `peer_namespace`).
public struct FaultLabel: Codable, Sendable, Equatable {
    public var startNs: Int64
    public var endNs: Int64
    public var pod: String
    public var namespace: String
    public var kind: String
    public var params: [String: Double]
    public var effect: [String: Double]
    public var peer: String?
    public var peerNamespace: String?

    enum CodingKeys: String, CodingKey {
        case pod, namespace, kind, params, effect, peer
        case startNs = "start_ns"
        case endNs = "end_ns"
        case peerNamespace = "peer_namespace"
    }

    public init(fault: Fault, startNs: Int64, endNs: Int64, effect: [String: Double]) {
        self.startNs = startNs
        self.endNs = endNs
        pod = fault.pod
        namespace = fault.namespace
        kind = fault.kind.name
        switch fault.kind {
        case .loss(let percent), .reset(let percent), .cpu(let percent): params = ["percent": percent]
        case .delay(let ms): params = ["ms": Double(ms)]
        case .bandwidth(let kbit): params = ["kbit": Double(kbit)]
        case .dns, .kill, .partition: params = [:]
        }
        peer = fault.kind.peer?.name
        peerNamespace = fault.kind.peer?.namespace
        self.effect = effect
    }

    public func jsonLine() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(self), as: UTF8.self) + "\n"
    }
}
