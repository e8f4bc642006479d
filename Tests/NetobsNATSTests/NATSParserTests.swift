import Testing
@testable import NetobsNATS

@Suite("NATS protocol parser")
struct NATSParserTests {
    static let stream = Array(("INFO {\"server_id\":\"x\",\"headers\":true}\r\nPING\r\n+OK\r\nMSG a.b 7 _INBOX.r 5\r\nhello\r\n"
        + "HMSG c 9 20 24\r\nNATS/1.0\r\nK: v 1\r\n\r\nbody\r\nHMSG _INBOX.x 1 16 16\r\nNATS/1.0 503\r\n\r\n\r\n"
        + "PONG\r\n-ERR 'Authorization Violation'\r\n").utf8)

    static let expected: [NATSServerOp] = [
        .info(#"{"server_id":"x","headers":true}"#), .ping, .ok,
        .message(NATSMessage(subject: "a.b", sid: 7, replyTo: "_INBOX.r", payload: Array("hello".utf8))),
        .message(NATSMessage(subject: "c", sid: 9, headers: [("K", "v 1")], payload: Array("body".utf8))),
        .message(NATSMessage(subject: "_INBOX.x", sid: 1, status: 503, payload: [])),
        .pong, .error("Authorization Violation"),
    ]

    static func parse(_ chunks: [ArraySlice<UInt8>]) throws -> [NATSServerOp] {
        var parser = NATSParser()
        var ops: [NATSServerOp] = []
        for chunk in chunks {
            parser.append(chunk)
            while let op = try parser.next() { ops.append(op) }
        }
        return ops
    }

    @Test func wholeStream() throws {
        #expect(try Self.parse([Self.stream[...]]) == Self.expected)
    }

    @Test("every split point, byte by byte included", arguments: [1, 2, 3, 7, 13])
    func splitAnywhere(size: Int) throws {
        let chunks = stride(from: 0, to: Self.stream.count, by: size).map { Self.stream[$0..<min($0 + size, Self.stream.count)] }
        #expect(try Self.parse(chunks) == Self.expected)
    }

    @Test(arguments: ["MSG a x 5\r\nhello\r\n", "MSG a 1 -3\r\n", "MSG a 1 5\r\nhelloXX", "HMSG a 1 9 3\r\nabc\r\n",
                      "HMSG a 1 3 3\r\nabc\r\n", "BOGUS\r\n", "MSG a 1 99999999999\r\n"])
    func malformedInputThrows(_ text: String) {
        var parser = NATSParser()
        parser.append(Array(text.utf8))
        #expect(throws: NATSProtocolError.self) { while try parser.next() != nil {} }
    }

    @Test func overlongControlLineThrows() {
        var parser = NATSParser()
        parser.append(Array(repeating: UInt8(ascii: "A"), count: NATSParser.maxControlLine + 1))
        #expect(throws: NATSProtocolError.self) { _ = try parser.next() }
    }

    @Test func publishEncodings() {
        #expect(NATSClientOps.publish("s", payload: Array("hi".utf8)) == Array("PUB s 2\r\nhi\r\n".utf8))
        #expect(NATSClientOps.publish("s", replyTo: "r", headers: [("Nats-Msg-Id", "a-1")], payload: Array("hi".utf8))
            == Array("HPUB s r 30 32\r\nNATS/1.0\r\nNats-Msg-Id: a-1\r\n\r\nhi\r\n".utf8))
        #expect(!NATSClientOps.isValidSubject("a b") && !NATSClientOps.isValidSubject("") && NATSClientOps.isValidSubject("netobs.node-1"))
    }
}
