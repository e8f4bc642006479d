/// HTTP/2 on one connection, from both directions of its plaintext: each stream's request
/// HEADERS (:method, :path, content-type) and response HEADERS (:status), the trailers
/// (grpc-status), and the end of the stream, decoded with one HPACK table per direction.
/// A stream is complete when the responder ends it (END_STREAM) or either side resets it.
struct HTTP2Session: Sendable {
    struct Stream: Sendable, Equatable {
        var id: UInt32
        var startNs: UInt64
        var endNs: UInt64
        var method: String
        var path: String
        var status: UInt16
        var grpcService: String?
        var grpcMethod: String?
        var grpcStatus: Int?
    }

    private struct Open: Sendable {
        var startNs: UInt64 = 0
        var method = ""
        var path = ""
        var grpc = false
        var status: UInt16 = 0
        var responseNs: UInt64 = 0
        var grpcStatus: Int?
    }

    private struct Side: Sendable {
        var reader: HTTP2FrameReader
        var hpack = HPACKDecoder()
        /// Bytes of the current call not captured (known once the next call starts).
        var callRemaining = 0
        /// A header block split over CONTINUATION frames: its stream, flags and bytes so far.
        var pendingBlock: (stream: UInt32, endStream: Bool, bytes: [UInt8])?
    }

    static let preface = Array("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".utf8)
    static let maxOpenStreams = 4096

    static func startsWithPreface(_ data: [UInt8]) -> Bool {
        data.count >= 14 && data.prefix(14).elementsEqual(preface.prefix(14))
    }

    /// The direction (write or read, for this process) the client's bytes go.
    let clientDirection: TLSChunk.Direction
    private var client: Side
    private var server: Side
    private var streams: [UInt32: Open] = [:]
    private var errors: UInt64 = 0
    private var broken = false

    init(clientDirection: TLSChunk.Direction) {
        self.clientDirection = clientDirection
        client = Side(reader: HTTP2FrameReader(expectPreface: true))
        server = Side(reader: HTTP2FrameReader(expectPreface: false))
    }

    var openStreams: Int { streams.count }

    mutating func add(_ chunk: TLSChunk) -> [Stream] {
        guard !broken else { return [] }
        let fromClient = chunk.direction == clientDirection
        var side = fromClient ? client : server
        if chunk.offset == 0 {
            side.reader.gap(side.callRemaining)
            side.callRemaining = Int(chunk.length) - chunk.data.count
        } else {
            side.callRemaining -= chunk.data.count
        }
        let frames = side.reader.add(chunk.data)
        var done: [Stream] = []
        for frame in frames {
            if let stream = handle(frame, side: &side, fromClient: fromClient, ns: chunk.startNs) { done.append(stream) }
        }
        if side.reader.lost {
            broken = true
            errors += 1
        }
        if fromClient { client = side } else { server = side }
        return done
    }

    mutating func takeErrors() -> UInt64 {
        defer { errors = 0 }
        return errors
    }

    private enum FrameType: UInt8 { case data = 0, headers = 1, rstStream = 3, continuation = 9 }
    private static let endStream: UInt8 = 0x1, endHeaders: UInt8 = 0x4, padded: UInt8 = 0x8, priority: UInt8 = 0x20

    private mutating func handle(_ f: HTTP2FrameReader.Frame, side: inout Side, fromClient: Bool, ns: UInt64) -> Stream? {
        switch FrameType(rawValue: f.type) {
        case .data?:
            if !fromClient && f.flags & Self.endStream != 0 { return finish(f.stream, ns: ns) }
        case .headers?:
            var p = f.payload[...]
            if f.flags & Self.padded != 0 {
                guard let pad = p.first, Int(pad) < p.count else { return fail() }
                p = p.dropFirst().dropLast(Int(pad))
            }
            if f.flags & Self.priority != 0 {
                guard p.count >= 5 else { return fail() }
                p = p.dropFirst(5)
            }
            let endStream = f.flags & Self.endStream != 0
            if f.flags & Self.endHeaders != 0 {
                return block(Array(p), stream: f.stream, endStream: endStream, side: &side, fromClient: fromClient, ns: ns)
            }
            side.pendingBlock = (f.stream, endStream, Array(p))
        case .continuation?:
            guard var pending = side.pendingBlock, pending.stream == f.stream else { return fail() }
            pending.bytes += f.payload
            if f.flags & Self.endHeaders != 0 {
                side.pendingBlock = nil
                return block(pending.bytes, stream: f.stream, endStream: pending.endStream, side: &side,
                             fromClient: fromClient, ns: ns)
            }
            side.pendingBlock = pending
        case .rstStream?:
            return finish(f.stream, ns: ns)
        case nil:
            break
        }
        return nil
    }

    private mutating func fail() -> Stream? {
        broken = true
        errors += 1
        return nil
    }

    /// A whole header block: request headers, response headers, or trailers.
    private mutating func block(_ bytes: [UInt8], stream id: UInt32, endStream: Bool, side: inout Side,
                                fromClient: Bool, ns: UInt64) -> Stream? {
        let headers: [HPACKDecoder.Header]
        do {
            headers = try side.hpack.decode(bytes)
        } catch {
            return fail()
        }
        if fromClient {
            guard streams[id] == nil else { return nil } // request trailers
            guard streams.count < Self.maxOpenStreams else {
                errors += 1
                return nil
            }
            var open = Open(startNs: ns)
            for h in headers {
                switch h.name {
                case ":method": open.method = h.value
                case ":path": open.path = h.value
                case "content-type": open.grpc = h.value.hasPrefix("application/grpc")
                default: break
                }
            }
            streams[id] = open
            return nil
        }
        guard var open = streams[id] else { return nil } // a stream opened before we watched
        for h in headers {
            switch h.name {
            case ":status":
                if let code = UInt16(h.value), code >= 200 || open.status == 0 {
                    if code >= 100 && code < 200 { break } // interim: the final response follows
                    open.status = code
                    if open.responseNs == 0 { open.responseNs = ns }
                }
            case "grpc-status": open.grpcStatus = Int(h.value)
            default: break
            }
        }
        streams[id] = open
        return endStream ? finish(id, ns: ns) : nil
    }

    private mutating func finish(_ id: UInt32, ns: UInt64) -> Stream? {
        guard let open = streams.removeValue(forKey: id) else { return nil }
        var stream = Stream(id: id, startNs: open.startNs, endNs: open.responseNs == 0 ? ns : open.responseNs,
                            method: open.method, path: open.path, status: open.status)
        if open.grpc {
            // "/package.Service/Method"
            let parts = open.path.split(separator: "/", omittingEmptySubsequences: true)
            if parts.count == 2 {
                stream.grpcService = String(parts[0])
                stream.grpcMethod = String(parts[1])
            }
            stream.grpcStatus = open.grpcStatus
        }
        return stream
    }
}
