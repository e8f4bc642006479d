import Foundation
import NIOCore
import Testing
import NetobsController
import NetobsTLS
import NetobsWire

/// The bootstrap listener under malformed and unexpected input: one clear Error, a close, and
/// the listener keeps serving.
@Suite("bootstrap listener: malformed input", .serialized)
struct BootstrapListenerTests {
    /// Sends `bytes` on a fresh bootstrap connection; returns the frames received once it closed.
    func exchange(_ lab: BootstrapLab, _ bytes: [UInt8]) async throws -> [Frame] {
        let (channel, raw) = try await RawClient.connect(try lab.clientTLS(), port: lab.server.port)
        var buffer = channel.allocator.buffer(capacity: bytes.count)
        buffer.writeBytes(bytes)
        try await channel.writeAndFlush(buffer)
        #expect(await eventually(5) { raw.closed }, "the listener closes after its one answer")
        try? await channel.close()
        return raw.frames
    }

    func errorCode(_ frames: [Frame]) -> (ErrorCode, String)? {
        guard frames.count == 1, case .error(let e)? = try? frames[0].message() else { return nil }
        return (e.code, e.message)
    }

    func request(_ payload: [UInt8], id: UInt64 = 3) -> [UInt8] {
        encode(Frame(type: .bootstrapRequest, version: 1, correlationId: id, payload: payload))
    }

    @Test("bad frames, other messages, truncated and oversized fields, garbage CSRs: one Error each, then a working bootstrap")
    func malformed() async throws {
        let lab = try await BootstrapLab(lines: ["aaaaaa.0123456789abcdef node=*"], requestTimeout: 2)
        let bad = try await exchange(lab, Array("GET / HTTP/1.1\r\n\r\n".utf8))
        #expect(errorCode(bad)?.0 == .malformedFrame)

        let hello = try encode(.hello(Hello(role: .agent)), correlationId: 1)
        let (code, text) = try #require(errorCode(try await exchange(lab, hello)))
        #expect(code == .protocolViolation && text.contains("the only request is BootstrapRequest"))

        var w = ByteWriter()
        try w.string("node-a", limit: 253, field: "n")
        let truncated = try #require(errorCode(try await exchange(lab, request(w.bytes))))
        #expect(truncated.0 == .malformedPayload && truncated.1.contains("bootstrap_request.token"))

        var big = ByteWriter()
        try big.string("node-a", limit: 253, field: "n")
        try big.string("aaaaaa.0123456789abcdef", limit: 64, field: "t")
        big.uvarint(16_385)  // declared, never sent
        let oversized = try #require(errorCode(try await exchange(lab, request(big.bytes))))
        #expect(oversized.0 == .limitExceeded && oversized.1.contains("bootstrap_request.csr"))

        let tooLarge = FrameHeader(type: .bootstrapRequest, version: 1, flags: [], correlationId: 1, payloadLength: 1 << 20)
        var header = ByteWriter()
        tooLarge.write(into: &header)
        #expect(errorCode(try await exchange(lab, header.bytes))?.0 == .frameTooLarge)

        let garbage = try encode(.bootstrapRequest(BootstrapRequest(nodeName: "node-a", token: "aaaaaa.0123456789abcdef",
                                                                    csr: Array(repeating: 0x30, count: 300))), correlationId: 9)
        let garbageAnswer = try #require(try await exchange(lab, garbage).first)
        #expect(garbageAnswer.correlationId == 9 && garbageAnswer.flags.contains(.reply))
        guard case .error(let e) = try garbageAnswer.message() else { Issue.record("no error"); return }
        #expect(e.code == .rejected && e.message.contains("not one DER PKCS#10"))

        let version2 = encode(Frame(type: .bootstrapRequest, version: 2, correlationId: 4, payload: [0]))
        #expect(errorCode(try await exchange(lab, version2))?.0 == .unsupportedMessageVersion)

        // Silence: closed after the request timeout with an Error saying so.
        let (channel, raw) = try await RawClient.connect(try lab.clientTLS(), port: lab.server.port)
        #expect(await eventually(6) { raw.closed })
        #expect(errorCode(raw.frames)?.1.contains("no BootstrapRequest within") == true)
        try? await channel.close()

        // Still serving.
        let der = try await lab.request(node: "node-a", token: "aaaaaa.0123456789abcdef", csr: try agentCSR("node-a"))
        #expect(try Certificate(der: der).commonName == "node-a")
        await lab.stop()
    }

    @Test("the mutual-TLS port refuses a BootstrapRequest, and a client without a certificate never gets past its handshake")
    func mainPortStaysMutual() async throws {
        let lab = try await BootstrapLab(lines: ["aaaaaa.0123456789abcdef node=*"])
        let (channel, raw) = try await RawClient.connect(try lab.pki.clientContext(.agent, name: "node-a"), port: lab.controller.port)
        let request = try encode(.bootstrapRequest(BootstrapRequest(nodeName: "node-a", token: "aaaaaa.0123456789abcdef",
                                                                    csr: try agentCSR("node-a"))), correlationId: 1)
        var buffer = channel.allocator.buffer(capacity: request.count)
        buffer.writeBytes(request)
        try await channel.writeAndFlush(buffer)
        #expect(await eventually(5) { raw.closed })
        #expect(errorCode(raw.frames)?.0 == .protocolViolation)

        let (anonymous, anonymousRaw) = try await RawClient.connect(try lab.clientTLS(), port: lab.controller.port)
        #expect(await eventually(5) { anonymousRaw.closed })
        #expect(anonymousRaw.frames.isEmpty)
        try? await anonymous.close()
        await lab.stop()
    }
}
