import NetobsWire
import Testing

@Suite struct RobustnessTests {
    /// Every strict prefix of every vector: the frame decoder says "need more" or throws a fatal,
    /// typed error; and every strict prefix of a payload fails to decode with a typed error.
    @Test func everyTruncationNeedsMoreOrFailsTyped() throws {
        for name in try Vectors.all() {
            let bytes = try Vectors.load(name)
            for k in 0..<bytes.count {
                var d = FrameDecoder(maxPayload: Limits.handshakePayload)
                d.feed(bytes.prefix(k))
                do {
                    #expect(try d.next() == nil, "\(name) prefix \(k)")
                } catch {
                    #expect(error.isFatal, "\(name) prefix \(k): \(error)")
                }
            }
            // A payload that decodes follows one parse path to its last byte, so no strict prefix can.
            guard let frame = try? decodeFrames(bytes).first, (try? frame.message()) != nil else { continue }
            for k in 0..<frame.payload.count {
                #expect(throws: WireError.self, "\(name) payload prefix \(k)") {
                    try Message.decode(type: frame.type, version: frame.version, payload: frame.payload.prefix(k))
                }
            }
        }
    }

    /// Random garbage, in random chunks: never a crash, never more buffered than was fed, and any
    /// message that does decode re-encodes to something that decodes to itself.
    @Test func randomGarbageNeverCrashes() {
        var g = MessageGenerator(seed: 7)
        for _ in 0..<5_000 {
            var bytes = g.bytes(limit: 512, typical: 128)
            if g.chance(0.7) { bytes = [0x4E, 0x4F, 0x01] + bytes }  // get past the magic sometimes
            let out = feedInChunks(bytes, chunkSizes: { _ in g.int(1...64) })
            #expect(out.buffered <= bytes.count)
            if let e = out.error { #expect(e.isFatal) }
            for f in out.frames { checkReencodes(f) }
        }
    }

    /// Random payloads under every known header: typed error or a message that round-trips.
    @Test(arguments: allMessageTypes)
    func randomPayloadsNeverCrash(_ type: MessageType) {
        var g = MessageGenerator(seed: 99 &+ UInt64(type.rawValue))
        for _ in 0..<3_000 {
            checkReencodes(Frame(type: type, version: 1, payload: g.bytes(limit: 256, typical: 96)))
        }
    }

    /// Byte flips, insertions and deletions of valid vectors reach deep into the decoders.
    @Test func mutatedVectorsNeverCrash() throws {
        var g = MessageGenerator(seed: 1234)
        let seeds = try goldens.map { try Vectors.load($0.name) }
        for i in 0..<20_000 {
            var bytes = seeds[i % seeds.count]
            for _ in 0..<g.int(1...4) {
                let at = g.int(0...bytes.count - 1)
                switch g.int(0...3) {
                case 0: bytes[at] ^= UInt8(1 << g.int(0...7))
                case 1: bytes[at] = UInt8.random(in: 0...255, using: &g.rng)
                case 2: bytes.insert(UInt8.random(in: 0...255, using: &g.rng), at: at)
                default: if bytes.count > 1 { bytes.remove(at: at) }
                }
            }
            // Keep the header's length honest half the time so the payload decoder gets the bytes.
            if g.chance(0.5) && bytes.count >= FrameHeader.size {
                let n = UInt32(bytes.count - FrameHeader.size)
                bytes[16] = UInt8(n >> 24); bytes[17] = UInt8(n >> 16 & 0xFF)
                bytes[18] = UInt8(n >> 8 & 0xFF); bytes[19] = UInt8(n & 0xFF)
            }
            let out = feedInChunks(bytes, chunkSizes: { _ in g.int(1...40) })
            if let e = out.error { #expect(e.isFatal) }
            for f in out.frames { checkReencodes(f) }
        }
    }

    /// The declared length is refused with only the header received: nothing waits for (or
    /// allocates) the 4 GiB the header claims.
    @Test func oversizedLengthRejectedFromHeaderAlone() {
        var header = ByteWriter()
        FrameHeader(type: .flowBatch, version: 1, flags: [], correlationId: 1, payloadLength: .max).write(into: &header)
        var d = FrameDecoder(maxPayload: Limits.absoluteMaxPayload)
        d.feed(header.bytes)
        #expect(throws: WireError.frameTooLarge(declared: UInt64(UInt32.max), limit: Limits.absoluteMaxPayload)) {
            try d.next()
        }
        #expect(d.bufferedByteCount == 0)
        // The decoder stays failed: the stream is out of sync.
        d.feed(try! encode(.ack(Ack(sequence: 1))))
        #expect(throws: WireError.self) { try d.next() }
    }

    /// A within-limit length is not preallocated either: the decoder holds only what arrived.
    @Test func declaredLengthIsNotPreallocated() throws {
        var header = ByteWriter()
        FrameHeader(type: .programBundle, version: 1, flags: [], correlationId: 1,
                    payloadLength: Limits.absoluteMaxPayload).write(into: &header)
        var d = FrameDecoder(maxPayload: Limits.absoluteMaxPayload)
        d.feed(header.bytes + [1, 2, 3])
        #expect(try d.next() == nil)
        #expect(d.bufferedByteCount == FrameHeader.size + 3)
    }

    /// A count is bounded by the bytes present before any capacity is reserved: a 12-byte payload
    /// cannot make the decoder reserve 65536 records.
    @Test func countsAreBoundedByBytesPresent() {
        var w = ByteWriter()
        try! w.string("a", limit: 10, field: "")
        w.u64(1)
        w.u8(1)
        w.uvarint(65_536)  // at the limit, but only 0 bytes of records follow
        #expect(throws: WireError.truncated(field: "flow_batch.records", needed: 65_536, available: 0)) {
            try Message.decode(type: .flowBatch, version: 1, payload: w.bytes[...])
        }
        var r = ByteReader([0xFF, 0xFF, 0xFF, 0xFF, 0x0F])  // u32 max as a count
        #expect(throws: WireError.countLimitExceeded(field: "x", count: UInt64(UInt32.max), limit: 10)) {
            try r.count(limit: 10, minElementSize: 1, "x")
        }
    }

    @Test func varintEdges() throws {
        for v: UInt32 in [0, 1, 127, 128, 16_383, 16_384, 1 << 28 - 1, 1 << 28, .max] {
            var w = ByteWriter()
            w.uvarint(v)
            var r = ByteReader(w.bytes)
            #expect(try r.uvarint("v") == v)
            #expect(r.isAtEnd)
        }
        for bad: [UInt8] in [[0x80, 0x00], [0xFF, 0xFF, 0xFF, 0xFF, 0x10], [0x80, 0x80, 0x80, 0x80, 0x80, 0x01],
                             [0x81, 0x80, 0x00]] {
            var r = ByteReader(bad)
            #expect(throws: WireError.malformedVarint(field: "v")) { try r.uvarint("v") }
        }
        var r = ByteReader([0x80])
        #expect(throws: WireError.truncated(field: "v", needed: 1, available: 0)) { try r.uvarint("v") }
    }
}

/// A frame either fails with a typed, non-fatal error, or decodes to a message whose canonical
/// encoding decodes to the same message and is no longer than the input (skipped tags only shrink it).
func checkReencodes(_ frame: Frame, sourceLocation: SourceLocation = #_sourceLocation) {
    let m: Message
    do { m = try frame.message() } catch {
        #expect(!error.isFatal, "\(error)", sourceLocation: sourceLocation)
        return
    }
    do {
        let again = try Frame(m, correlationId: frame.correlationId, flags: frame.flags)
        #expect(again.payload.count <= frame.payload.count, sourceLocation: sourceLocation)
        #expect(try again.message() == m, sourceLocation: sourceLocation)
    } catch {
        Issue.record("decoded message does not re-encode: \(error)", sourceLocation: sourceLocation)
    }
}
