@testable import NetobsRecords
import Testing

/// HTTP/2 streams from TLS plaintext chunks: frames cut anywhere, interleaved streams, gRPC
/// trailers, resets, uncaptured DATA skipped, and a new connection on a reused SSL*.
struct HTTP2SessionTests {
    static func frame(_ type: UInt8, _ flags: UInt8, _ stream: UInt32, _ payload: [UInt8]) -> [UInt8] {
        let n = payload.count
        return [UInt8(n >> 16 & 0xff), UInt8(n >> 8 & 0xff), UInt8(n & 0xff), type, flags,
                UInt8(stream >> 24), UInt8(stream >> 16 & 0xff), UInt8(stream >> 8 & 0xff), UInt8(stream & 0xff)] + payload
    }

    /// A literal header without indexing, new name (RFC 7541 6.2.2), no Huffman.
    static func literal(_ name: String, _ value: String) -> [UInt8] {
        [0x00, UInt8(name.utf8.count)] + Array(name.utf8) + [UInt8(value.utf8.count)] + Array(value.utf8)
    }

    static let headers: UInt8 = 1, data: UInt8 = 0, rst: UInt8 = 3, settings: UInt8 = 4, continuation: UInt8 = 9
    static let endStream: UInt8 = 1, endHeaders: UInt8 = 4

    static func chunk(_ bytes: [UInt8], _ d: TLSChunk.Direction, at ns: UInt64, length: Int? = nil, socket: UInt64 = 5) -> TLSChunk {
        var c = TLSSessionsTests.chunk("", d, at: ns)
        c.data = bytes
        c.length = UInt32(length ?? bytes.count)
        c.socket = socket
        return c
    }

    @Test func interleavedStreamsGetTheirOwnStatus() {
        var s = TLSSessions()
        let preface = HTTP2Session.preface
        // GET / (static 2, 4, 7) on 1; GET /x (literal :path, indexed name 4) on 3 split over CONTINUATION.
        let h1 = Self.frame(Self.headers, Self.endHeaders | Self.endStream, 1, [0x82, 0x84, 0x87])
        let path3: [UInt8] = [0x44, 0x02] + Array("/x".utf8) // incremental indexing, name :path
        let h3a = Self.frame(Self.headers, Self.endStream, 3, [0x82])
        let h3b = Self.frame(Self.continuation, Self.endHeaders, 3, path3 + [0x87])
        let request = preface + Self.frame(Self.settings, 0, 0, []) + h1 + h3a + h3b
        var out: [TLSExchange] = []
        // The client's write cut in the middle of a frame header.
        out += s.add(Self.chunk(Array(request[0..<30]), .write, at: 100, length: request.count))
        var rest = Self.chunk(Array(request[30...]), .write, at: 100, length: request.count)
        rest.offset = 30
        out += s.add(rest)
        // Stream 3 answered first (404, static 13), then stream 1 (200, static 8) with a body.
        let response = Self.frame(Self.headers, Self.endHeaders | Self.endStream, 3, [0x8d])
            + Self.frame(Self.headers, Self.endHeaders, 1, [0x88]) + Self.frame(Self.data, Self.endStream, 1, Array("ok".utf8))
        out += s.add(Self.chunk(response, .read, at: 250))
        #expect(out.map { "\($0.streamID ?? 0) \($0.method) \($0.uri) \($0.version) \($0.status) \($0.durationNs)" }
            == ["3 GET /x HTTP/2 404 150", "1 GET / HTTP/2 200 150"])
        #expect(out.allSatisfy { $0.endpoints.role == 1 })
        #expect(s.http2Errors == 0)
    }

    @Test func grpcTrailersGiveTheStatusAndResetsEndStreams() {
        var s = TLSSessions()
        let request = Self.frame(Self.headers, Self.endHeaders, 1,
                                 [0x83, 0x87] + Self.literal(":path", "/lab.Echo/Say") + Self.literal("content-type", "application/grpc"))
            + Self.frame(Self.data, Self.endStream, 1, [0, 0, 0, 0, 2, 0x68, 0x69])
            + Self.frame(Self.headers, Self.endHeaders | Self.endStream, 5, [0x82, 0x84])
        // The server reads the request (this process is the server).
        _ = s.add(Self.chunk(HTTP2Session.preface + request, .read, at: 10))
        let response = Self.frame(Self.headers, Self.endHeaders, 1, [0x88] + Self.literal("content-type", "application/grpc"))
            + Self.frame(Self.data, 0, 1, [0, 0, 0, 0, 0])
            + Self.frame(Self.headers, Self.endHeaders | Self.endStream, 1, Self.literal("grpc-status", "5"))
            + Self.frame(Self.rst, 0, 5, [0, 0, 0, 8])
        let out = s.add(Self.chunk(response, .write, at: 40))
        #expect(out.count == 2)
        let grpc = out.first { $0.streamID == 1 }
        #expect(grpc?.grpcService == "lab.Echo" && grpc?.grpcMethod == "Say" && grpc?.grpcStatus == 5 && grpc?.status == 200)
        #expect(grpc?.method == "POST" && grpc?.endpoints.role == 2 && grpc?.durationNs == 30)
        let reset = out.first { $0.streamID == 5 }
        #expect(reset?.status == 0 && reset?.grpcService == nil)
    }

    @Test func uncapturedDataIsSkippedAndHeadersAfterItStillDecode() {
        var s = TLSSessions()
        _ = s.add(Self.chunk(HTTP2Session.preface + Self.frame(Self.headers, Self.endHeaders, 1, [0x83, 0x84]), .write, at: 1))
        // The client's 40 KB POST body: a call of which only 16 KiB were captured.
        let body = Self.frame(Self.data, Self.endStream, 1, [UInt8](repeating: 7, count: 40_000))
        _ = s.add(Self.chunk(Array(body.prefix(16_384)), .write, at: 2, length: body.count))
        // Next call: the response arrives, then a new request on stream 3.
        let out = s.add(Self.chunk(Self.frame(Self.headers, Self.endHeaders | Self.endStream, 1, [0x88]), .read, at: 9))
        _ = s.add(Self.chunk(Self.frame(Self.headers, Self.endHeaders | Self.endStream, 3, [0x82, 0x84]), .write, at: 10))
        let more = s.add(Self.chunk(Self.frame(Self.headers, Self.endHeaders | Self.endStream, 3, [0x8d]), .read, at: 12))
        #expect(out.map(\.status) == [200] && out.first?.method == "POST")
        #expect(more.map(\.status) == [404] && more.first?.streamID == 3)
        #expect(s.http2Errors == 0)
    }

    @Test func aReusedSSLPointerOnAnotherSocketStartsANewSession() {
        var s = TLSSessions()
        let request = HTTP2Session.preface + Self.frame(Self.headers, Self.endHeaders | Self.endStream, 1, [0x82, 0x84])
        _ = s.add(Self.chunk(request, .read, at: 1, socket: 5))
        _ = s.add(Self.chunk(Self.frame(Self.headers, Self.endHeaders, 1, [0x88]), .write, at: 2, socket: 5))
        // The same SSL* address, another connection: stream 1 again, from the start.
        _ = s.add(Self.chunk(request, .read, at: 3, socket: 6))
        let out = s.add(Self.chunk(Self.frame(Self.headers, Self.endHeaders | Self.endStream, 1, [0x8d]), .write, at: 4, socket: 6))
        #expect(out.map(\.status) == [404])
        #expect(s.http2Errors == 0)
    }
}
