import CNetobsLayout

/// Swift view of `struct netobs_l7_event` (bpf/netobs_l7_layout.h): one HTTP exchange or DNS
/// query as one socket saw it: an exemplar from the ring buffer, or a query pending its answer.
/// The URI or query name is the text of `textID` (`L7TextCatalog`).
public struct L7Event: Sendable, Equatable {
    public enum Kind: UInt8, Sendable { case http = 1, dns = 2 }

    /// Why the kernel sent the exchange on its own (`enum netobs_exemplar_reason`).
    public enum Reason: UInt8, Sendable, Comparable {
        case none = 0, sample = 1, slow = 2, error = 3

        /// The `exemplar` field of the record.
        public var name: String {
            switch self {
            case .none: ""
            case .sample: "sample"
            case .slow: "slow"
            case .error: "error"
            }
        }

        public static func < (a: Reason, b: Reason) -> Bool { a.rawValue < b.rawValue }
    }

    public var kind: Kind
    public var endpoints: Endpoints
    public var owner: Owner
    public var startNs: UInt64
    /// 0 while unanswered.
    public var endNs: UInt64
    public var textID: UInt64
    public var truncated: Bool
    public var reason: Reason = .none
    public var httpMethod: UInt8 = 0
    public var httpVersion: UInt8 = 0
    /// 0: the connection ended before the response.
    public var httpStatus: UInt16 = 0
    public var dnsID: UInt16 = 0
    public var dnsQueryType: UInt16 = 0
    public var dnsResponseCode: UInt8 = 0

    public init(kind: Kind, endpoints: Endpoints, owner: Owner, startNs: UInt64, endNs: UInt64,
                textID: UInt64, truncated: Bool = false) {
        self.kind = kind
        self.endpoints = endpoints
        self.owner = owner
        self.startNs = startNs
        self.endNs = endNs
        self.textID = textID
        self.truncated = truncated
    }

    public init?(raw: UnsafeRawBufferPointer) {
        guard raw.count >= MemoryLayout<netobs_l7_event>.size else { return nil }
        let e = raw.loadUnaligned(as: netobs_l7_event.self)
        guard let kind = Kind(rawValue: e.kind) else { return nil }
        self.init(kind: kind, endpoints: Endpoints(e.ep), owner: Owner(e.owner), startNs: e.start_ns,
                  endNs: e.end_ns, textID: e.text_id, truncated: e.truncated != 0)
        reason = Reason(rawValue: e.reason) ?? .none
        httpMethod = e.http_method
        httpVersion = e.http_version
        httpStatus = e.http_status
        dnsID = e.dns_id
        dnsQueryType = e.dns_qtype
        dnsResponseCode = e.dns_rcode
    }

    /// How long the exchange took (0 when the clock went backwards).
    public var durationNs: UInt64 { endNs >= startNs ? endNs - startNs : 0 }
}
