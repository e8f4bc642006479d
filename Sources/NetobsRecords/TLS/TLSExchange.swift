/// One request and its response read from TLS plaintext (HTTP/1.x, or one HTTP/2 stream), as
/// one process saw it: the record `TLSRecords.record` makes.
public struct TLSExchange: Sendable, Equatable {
    /// The socket under the TLS session; `role` is client when this process sent the request.
    /// All zero when the session was never tied to a socket.
    public var endpoints: Endpoints
    public var owner: Owner
    public var hasSocket: Bool
    /// The request's first bytes (write or read) and the response's.
    public var startNs: UInt64
    public var endNs: UInt64
    public var method: String
    public var uri: String
    /// "HTTP/1.0", "HTTP/1.1", "HTTP/2" ("" when the request line was cut before it).
    public var version: String
    public var status: UInt16
    /// HTTP/2: the stream.
    public var streamID: UInt32?
    /// gRPC (HTTP/2 with content-type application/grpc): from the path and the trailers.
    public var grpcService: String?
    public var grpcMethod: String?
    public var grpcStatus: Int?

    public init(endpoints: Endpoints, owner: Owner, hasSocket: Bool, startNs: UInt64, endNs: UInt64,
                method: String, uri: String, version: String, status: UInt16) {
        self.endpoints = endpoints
        self.owner = owner
        self.hasSocket = hasSocket
        self.startNs = startNs
        self.endNs = endNs
        self.method = method
        self.uri = uri
        self.version = version
        self.status = status
    }

    public var durationNs: UInt64 { endNs >= startNs ? endNs - startNs : 0 }
}
