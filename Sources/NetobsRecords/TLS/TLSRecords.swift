/// `http` records of exchanges read from TLS plaintext: the same fields as the cleartext
/// exemplars (bpf/l7.bpf.c through `L7Records`), plus `http_tls: true`, and for HTTP/2 and gRPC
/// `http_stream_id`, `grpc_service`, `grpc_method`, `grpc_status`.
public enum TLSRecords {
    /// URIs are kept to the cleartext parser's length (NETOBS_L7_TEXT_LEN), flagged when cut.
    public static let uriLimit = 128

    /// `tls` false: HTTP/2 in cleartext (h2c), no `http_tls`.
    public static func record(_ e: TLSExchange, context: RecordContext, tls: Bool = true) -> Record {
        var r = context.flowRecord(kind: "http", monotonicNs: e.endNs, endpoints: e.endpoints, owner: e.owner)
        let uri = Array(e.uri.utf8)
        let truncated = uri.count > uriLimit
        r.set("http_request_method", .string(e.method))
        r.set("http_request_uri", .string(truncated ? String(decoding: uri.prefix(uriLimit), as: UTF8.self) : e.uri))
        r.set("http_request_version", .string(e.version))
        r.set("http_status_code", .uint(UInt64(e.status)))
        r.set("http_duration", .uint(e.durationNs))
        if truncated { r.set("http_request_uri_truncated", .bool(true)) }
        if tls { r.set("http_tls", .bool(true)) }
        if let id = e.streamID { r.set("http_stream_id", .uint(UInt64(id))) }
        if let service = e.grpcService { r.set("grpc_service", .string(service)) }
        if let method = e.grpcMethod { r.set("grpc_method", .string(method)) }
        if let status = e.grpcStatus { r.set("grpc_status", .uint(UInt64(max(0, status)))) }
        if !e.hasSocket { r.set("tls_socket_unknown", .bool(true)) }
        return r
    }

    /// A process that does TLS with a library the probes do not cover (statically linked,
    /// another library): said once per process, never silently missing.
    public static func unsupportedRecord(pid: UInt32, comm: String, cgroupID: UInt64, library: String,
                                         nowMonotonicNs: UInt64, context: RecordContext) -> Record {
        var r = Record(kind: "tls_unsupported")
        r.set("ts_ns", .uint(context.unixNs(monotonic: nowMonotonicNs)))
        r.set("node", .string(context.node))
        r.set("pid", .uint(UInt64(pid)))
        r.set("comm", .string(comm))
        r.set("cgroup_id", .uint(cgroupID))
        r.set("tls_library", .string(library))
        return r
    }
}
