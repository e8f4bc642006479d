/// TLS sessions followed from their plaintext chunks (one SSL* in one process each): which
/// protocol a session speaks, the requests awaiting their responses, and the exchanges they
/// make. Plain values in, plain values out: testable without a kernel.
///
/// HTTP/1.x: a message starts at the start of a call (SSL_write/SSL_read); requests wait in
/// order (pipelining), a status line answers the oldest request that went the other way. The
/// process that wrote the request is the client.
public struct TLSSessions: Sendable {
    public struct Key: Hashable, Sendable {
        public var pid: UInt32
        public var ssl: UInt64
    }

    enum Proto: Sendable, Equatable { case unknown, http1, http2, other }

    struct Pending: Sendable {
        var request: HTTP1Head.Request
        var startNs: UInt64
        var direction: TLSChunk.Direction
    }

    struct Session: Sendable {
        var socket: UInt64 = 0
        var endpoints: Endpoints?
        var owner: Owner
        var lastNs: UInt64
        var proto: Proto = .unknown
        var probes = 0
        var pending: [Pending] = []
        var http2: HTTP2Session?
    }

    /// Calls looked at before a session that shows no HTTP is left alone.
    static let probeCalls = 8
    /// Requests awaiting responses per session; past it the oldest is dropped (counted).
    static let maxPending = 64
    public static let maxSessions = 65_536

    private var sessions: [Key: Session] = [:]
    /// Requests never answered (session gone, idle or over `maxPending`).
    public private(set) var unanswered: UInt64 = 0
    /// Responses with no request pending.
    public private(set) var unmatched: UInt64 = 0
    /// Exchanges whose session was never tied to a socket.
    public private(set) var withoutSocket: UInt64 = 0
    /// Sessions not followed: the table was full.
    public private(set) var sessionsDropped: UInt64 = 0
    /// HTTP/2 frames or header blocks that could not be decoded.
    public private(set) var http2Errors: UInt64 = 0

    /// Whether a session is (pid, SSL*) (TLS: the SSL* is an address in its process) or the
    /// socket cookie alone (h2c from the wire: the owner may be learnt after the first bytes).
    private let keyedByProcess: Bool

    public init(keyedByProcess: Bool = true) { self.keyedByProcess = keyedByProcess }

    public var count: Int { sessions.count }

    /// Takes one chunk; returns the exchanges it completes.
    public mutating func add(_ chunk: TLSChunk) -> [TLSExchange] {
        let key = Key(pid: keyedByProcess ? chunk.owner.pid : 0, ssl: chunk.ssl)
        var session: Session
        if let s = sessions[key], !(chunk.hasSocket && s.socket != 0 && s.socket != chunk.socket) {
            session = s
        } else {
            // New, or the SSL* was freed and reused for another connection (another socket).
            if let old = sessions[key] { unanswered += UInt64(old.pending.count + (old.http2?.openStreams ?? 0)) }
            guard sessions.count < Self.maxSessions || sessions[key] != nil else {
                sessionsDropped += 1
                return []
            }
            session = Session(owner: chunk.owner, lastNs: chunk.startNs)
        }
        if chunk.hasSocket {
            session.socket = chunk.socket
            session.endpoints = chunk.endpoints
            if chunk.owner.pid != 0 || session.owner.pid == 0 { session.owner = chunk.owner }
        }
        session.lastNs = max(session.lastNs, chunk.startNs)
        var done: [TLSExchange] = []
        if session.proto == .unknown, chunk.offset == 0 { detect(&session, chunk) }
        switch session.proto {
        case .http1:
            if chunk.offset == 0 { done = http1(&session, chunk) }
        case .http2:
            if chunk.offset == 0, chunk.direction == session.http2?.clientDirection,
               HTTP2Session.startsWithPreface(chunk.data) {
                // A preface again: a new connection on this SSL* (its socket unseen).
                unanswered += UInt64(session.http2?.openStreams ?? 0)
                session.http2 = HTTP2Session(clientDirection: chunk.direction)
            }
            done = http2(&session, chunk)
        case .unknown, .other:
            break
        }
        sessions[key] = session
        withoutSocket += UInt64(done.filter { !$0.hasSocket }.count)
        return done
    }

    private mutating func detect(_ s: inout Session, _ chunk: TLSChunk) {
        guard !chunk.data.isEmpty else { return }
        if HTTP2Session.startsWithPreface(chunk.data) {
            s.proto = .http2
            s.http2 = HTTP2Session(clientDirection: chunk.direction)
        } else if HTTP1Head.request(chunk.data) != nil || HTTP1Head.status(chunk.data) != nil {
            s.proto = .http1
        } else {
            s.probes += 1
            if s.probes >= Self.probeCalls { s.proto = .other }
        }
    }

    private mutating func http1(_ s: inout Session, _ chunk: TLSChunk) -> [TLSExchange] {
        if HTTP2Session.startsWithPreface(chunk.data) { // h2c after an Upgrade, or prior knowledge
            s.proto = .http2
            s.http2 = HTTP2Session(clientDirection: chunk.direction)
            return http2(&s, chunk)
        }
        if let request = HTTP1Head.request(chunk.data) {
            if s.pending.count >= Self.maxPending {
                s.pending.removeFirst()
                unanswered += 1
            }
            s.pending.append(Pending(request: request, startNs: chunk.startNs, direction: chunk.direction))
            return []
        }
        guard let status = HTTP1Head.status(chunk.data) else { return [] }
        if status.code >= 100 && status.code < 200 && status.code != 101 { return [] } // interim
        guard let i = s.pending.firstIndex(where: { $0.direction != chunk.direction }) else {
            unmatched += 1
            return []
        }
        let p = s.pending.remove(at: i)
        return [exchange(s, startNs: p.startNs, endNs: chunk.startNs, client: p.direction == .write,
                         method: p.request.method, uri: p.request.uri, version: p.request.version, status: status.code)]
    }

    private mutating func http2(_ s: inout Session, _ chunk: TLSChunk) -> [TLSExchange] {
        guard var h2 = s.http2 else { return [] }
        let streams = h2.add(chunk)
        http2Errors += h2.takeErrors()
        s.http2 = h2
        return streams.map { st in
            var e = exchange(s, startNs: st.startNs, endNs: st.endNs, client: h2.clientDirection == .write,
                             method: st.method, uri: st.path, version: "HTTP/2", status: st.status)
            e.streamID = st.id
            e.grpcService = st.grpcService
            e.grpcMethod = st.grpcMethod
            e.grpcStatus = st.grpcStatus
            return e
        }
    }

    private func exchange(_ s: Session, startNs: UInt64, endNs: UInt64, client: Bool, method: String, uri: String,
                          version: String, status: UInt16) -> TLSExchange {
        var endpoints = s.endpoints ?? Endpoints(localAddr: [UInt8](repeating: 0, count: 16),
                                                 remoteAddr: [UInt8](repeating: 0, count: 16),
                                                 localPort: 0, remotePort: 0, ipVersion: 0)
        endpoints.role = client ? 1 : 2 // enum netobs_role
        return TLSExchange(endpoints: endpoints, owner: s.owner, hasSocket: s.endpoints != nil, startNs: startNs,
                           endNs: endNs, method: method, uri: uri, version: version, status: status)
    }

    /// Forgets sessions idle for `idleNs` (their unanswered requests are counted).
    public mutating func expire(nowNs: UInt64, idleNs: UInt64) {
        let old = sessions.filter { nowNs > $0.value.lastNs && nowNs - $0.value.lastNs >= idleNs }
        for (key, s) in old {
            unanswered += UInt64(s.pending.count + (s.http2?.openStreams ?? 0))
            sessions[key] = nil
        }
    }

    /// Forgets the sessions of processes that are gone.
    public mutating func forget(pids: Set<UInt32>) {
        for key in sessions.keys where pids.contains(key.pid) {
            unanswered += UInt64(sessions[key]?.pending.count ?? 0)
            sessions[key] = nil
        }
    }

    public var pids: Set<UInt32> { Set(sessions.keys.map(\.pid)) }
}
