import NetobsWire
import Testing

@Suite struct RoundTripTests {
    static let iterations = 2_000

    /// decode(encode(m)) == m over thousands of seeded random messages of every type; the same bytes
    /// fed in random chunks give the same frame.
    @Test(arguments: allMessageTypes)
    func randomMessagesRoundTrip(_ type: MessageType) throws {
        var g = MessageGenerator(seed: 0x6E65_746F_6273 ^ UInt64(type.rawValue))
        for i in 0..<Self.iterations {
            let m = g.message(type)
            let corr = g.u64()
            let flags = FrameFlags(rawValue: UInt8.random(in: 0...255, using: &g.rng))
            let bytes = try encode(m, correlationId: corr, flags: flags)
            let frames = try decodeFrames(bytes)
            try #require(frames.count == 1, "iteration \(i)")
            #expect(frames[0].correlationId == corr && frames[0].flags == flags)
            let decoded = try frames[0].message()
            #expect(decoded == m, "iteration \(i)")
            if i % 50 == 0 {
                let chunked = feedInChunks(bytes, chunkSizes: { _ in g.int(1...97) })
                #expect(chunked.frames == frames && chunked.error == nil && chunked.buffered == 0)
            }
        }
    }

    /// A stream of many frames, fed one byte at a time, yields exactly what one big feed yields.
    @Test func byteByByteEqualsAllAtOnce() throws {
        var g = MessageGenerator(seed: 42)
        var stream: [UInt8] = []
        var expected: [Message] = []
        for i in 0..<300 {
            let m = g.message(allMessageTypes[i % allMessageTypes.count])
            if case .programBundle(var b) = m { b.object = Array(b.object.prefix(2048)); expected.append(.programBundle(b)) }
            else { expected.append(m) }
            stream += try encode(expected.last!, correlationId: UInt64(i))
        }
        let atOnce = try decodeFrames(stream)
        let byteByByte = feedInChunks(stream, chunkSizes: { _ in 1 })
        #expect(byteByByte.error == nil)
        #expect(byteByByte.frames == atOnce)
        #expect(try atOnce.map { try $0.message() } == expected)
        #expect(atOnce.map(\.correlationId) == (0..<300).map(UInt64.init))
    }

    @Test func limitSizedFieldsRoundTrip() throws {
        let big = String(repeating: "é", count: Limits.verifierLog / 2)
        let status = Message.programStatus(ProgramStatus(name: String(repeating: "n", count: Limits.label),
                                                         version: "v", state: .loaded, verifierLog: big,
                                                         error: String(repeating: "e", count: Limits.text)))
        #expect(try decodeFrames(try encode(status))[0].message() == status)

        let object = [UInt8](repeating: 0xAB, count: Limits.programObject)
        let bundle = Message.programBundle(ProgramBundle(name: "p", version: "1", sha256: Array(repeating: 1, count: 32),
                                                         signature: Array(repeating: 2, count: 64), signerKeyId: "k",
                                                         object: object))
        let bytes = try encode(bundle, maxPayload: Limits.defaultNegotiatedPayload)
        #expect(try decodeFrames(bytes, maxPayload: Limits.defaultNegotiatedPayload)[0].message() == bundle)

        let batch = Message.flowBatch(FlowBatch(agentId: "a", sequence: 1,
                                                records: Array(repeating: [0x7B, 0x7D], count: Limits.records)))
        #expect(try decodeFrames(try encode(batch))[0].message() == batch)
    }
}
