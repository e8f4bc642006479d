import NetobsWire
import Testing

@Suite struct BootstrapMessageTests {
    @Test("the token never shows in a printed message")
    func tokenIsRedacted() throws {
        let request = BootstrapRequest(nodeName: "node-1", token: "abcdef.0123456789abcdef", csr: [1, 2, 3])
        for text in ["\(request)", String(reflecting: request), "\(Message.bootstrapRequest(request))",
                     String(reflecting: Message.bootstrapRequest(request)), "\(request.token)"] {
            #expect(!text.contains("0123456789abcdef"), "\(text)")
        }
        #expect(request.token.value == "abcdef.0123456789abcdef")
    }

    @Test("round trip at the limits; one byte more is refused")
    func limits() throws {
        let full = BootstrapRequest(nodeName: String(repeating: "n", count: 253), token: String(repeating: "t", count: 64),
                                    csr: Array(repeating: 7, count: Limits.certificateRequest))
        let frame = try Frame(.bootstrapRequest(full), correlationId: 1)
        #expect(try frame.message() == .bootstrapRequest(full))
        var over = full
        over.csr.append(0)
        #expect(throws: WireError.self) { try Frame(.bootstrapRequest(over), correlationId: 1) }
        let response = BootstrapResponse(certificate: Array(repeating: 1, count: Limits.certificate))
        #expect(try Frame(.bootstrapResponse(response)).message() == .bootstrapResponse(response))
    }
}
