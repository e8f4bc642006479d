import CNetobsLayout

/// Swift view of `struct netobs_l7_event` (bpf/netobs_layout.h): one HTTP exchange or DNS
/// query as one socket saw it, from the ring buffer or, for a pending query, the map.
public struct L7Event: Sendable, Equatable {
    public enum Kind: UInt8, Sendable { case http = 1, dns = 2 }

    public var kind: Kind
    public var endpoints: Endpoints
    public var owner: Owner
    public var startNs: UInt64
    /// 0 while unanswered.
    public var endNs: UInt64
    /// HTTP: the URI; DNS: the query name in wire form (length-prefixed labels).
    public var text: [UInt8]
    public var truncated: Bool
    public var httpMethod: UInt8 = 0
    public var httpVersion: UInt8 = 0
    public var httpStatus: UInt16 = 0
    public var dnsID: UInt16 = 0
    public var dnsQueryType: UInt16 = 0
    public var dnsResponseCode: UInt8 = 0

    public init(kind: Kind, endpoints: Endpoints, owner: Owner, startNs: UInt64, endNs: UInt64,
                text: [UInt8], truncated: Bool = false) {
        self.kind = kind
        self.endpoints = endpoints
        self.owner = owner
        self.startNs = startNs
        self.endNs = endNs
        self.text = text
        self.truncated = truncated
    }

    public init?(raw: UnsafeRawBufferPointer) {
        guard raw.count >= MemoryLayout<netobs_l7_event>.size else { return nil }
        let e = raw.loadUnaligned(as: netobs_l7_event.self)
        guard let kind = Kind(rawValue: e.kind) else { return nil }
        let text = withUnsafeBytes(of: e.text) { Array($0.prefix(Int(min(e.text_len, UInt16(NETOBS_L7_TEXT_LEN))))) }
        self.init(kind: kind, endpoints: Endpoints(e.ep), owner: Owner(e.owner), startNs: e.start_ns,
                  endNs: e.end_ns, text: text, truncated: e.truncated != 0)
        httpMethod = e.http_method
        httpVersion = e.http_version
        httpStatus = e.http_status
        dnsID = e.dns_id
        dnsQueryType = e.dns_qtype
        dnsResponseCode = e.dns_rcode
    }
}

/// What the agent needs of a `struct netobs_http_conn` map value: when it was last used and
/// how many requests still wait for a response.
public struct HTTPConnState: Sendable, Equatable {
    public var lastNs: UInt64
    public var pending: UInt32

    public init(lastNs: UInt64, pending: UInt32) {
        self.lastNs = lastNs
        self.pending = pending
    }

    public init?(raw: UnsafeRawBufferPointer) {
        guard raw.count >= MemoryLayout<netobs_http_conn>.size else { return nil }
        let lastNs = raw.loadUnaligned(fromByteOffset: MemoryLayout<netobs_http_conn>.offset(of: \.last_ns)!, as: UInt64.self)
        let head = raw.loadUnaligned(fromByteOffset: MemoryLayout<netobs_http_conn>.offset(of: \.head)!, as: UInt32.self)
        let tail = raw.loadUnaligned(fromByteOffset: MemoryLayout<netobs_http_conn>.offset(of: \.tail)!, as: UInt32.self)
        self.init(lastNs: lastNs, pending: tail &- head)
    }
}
