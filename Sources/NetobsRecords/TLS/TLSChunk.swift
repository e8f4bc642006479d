import CNetobsLayout

/// Swift view of `struct netobs_tls_event` (bpf/netobs_tls_layout.h): one chunk of plaintext
/// an SSL_write or SSL_read call moved, with the socket under the SSL* when it is known.
public struct TLSChunk: Sendable, Equatable {
    public enum Direction: UInt8, Sendable {
        /// The process wrote it (SSL_write).
        case write = 1
        /// The process read it (SSL_read).
        case read = 2
    }

    public var endpoints: Endpoints
    public var owner: Owner
    /// Write: the call's entry; read: its return (the data was there).
    public var startNs: UInt64
    /// The SSL* in its process: with the pid, the connection.
    public var ssl: UInt64
    public var tid: UInt32
    /// Plaintext bytes the call moved; `data` is the part at `offset`.
    public var length: UInt32
    public var offset: UInt32
    public var direction: Direction
    public var hasSocket: Bool
    /// The kernel socket's address (0: unknown): a new connection on a reused SSL* has another.
    public var socket: UInt64 = 0
    public var data: [UInt8]

    public init(endpoints: Endpoints, owner: Owner, startNs: UInt64, ssl: UInt64, tid: UInt32 = 0,
                length: UInt32, offset: UInt32 = 0, direction: Direction, hasSocket: Bool = true, data: [UInt8]) {
        self.endpoints = endpoints
        self.owner = owner
        self.startNs = startNs
        self.ssl = ssl
        self.tid = tid
        self.length = length
        self.offset = offset
        self.direction = direction
        self.hasSocket = hasSocket
        self.data = data
    }

    public init?(raw: UnsafeRawBufferPointer) {
        let header = MemoryLayout<netobs_tls_event>.size - Int(NETOBS_TLS_CHUNK) // data is last
        guard raw.count >= MemoryLayout<netobs_tls_event>.size else { return nil }
        let e = raw.loadUnaligned(as: netobs_tls_event.self)
        guard let direction = Direction(rawValue: e.direction) else { return nil }
        let captured = min(Int(e.captured), Int(NETOBS_TLS_CHUNK), raw.count - header)
        self.init(endpoints: Endpoints(e.ep), owner: Owner(e.owner), startNs: e.start_ns, ssl: e.ssl, tid: e.tid,
                  length: e.len, offset: e.offset, direction: direction, hasSocket: e.has_socket != 0,
                  data: Array(raw[header..<(header + captured)]))
        socket = e.sock
    }

    /// Whether the chunk holds all the bytes it stands for.
    public var isWhole: Bool { Int(offset) + data.count >= Int(length) }
}
