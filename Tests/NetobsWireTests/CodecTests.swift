import NetobsWire
import Testing

@Suite struct FrameDecoderTests {
    @Test func manyFramesInOneFeedAndSplitAtEveryPosition() throws {
        let a = try encode(.ack(Ack(sequence: 1)), correlationId: 1, flags: .reply)
        let b = try encode(.heartbeat(Heartbeat(timestampNs: 5)))
        let stream = a + b + a
        let expected = try decodeFrames(stream)
        #expect(expected.count == 3)
        for cut in 0...stream.count {
            var d = FrameDecoder()
            var got: [Frame] = []
            d.feed(stream[..<cut])
            while let f = try d.next() { got.append(f) }
            d.feed(stream[cut...])
            while let f = try d.next() { got.append(f) }
            #expect(got == expected, "cut at \(cut)")
            #expect(d.bufferedByteCount == 0)
        }
    }

    @Test func badMagicIsRefusedAfterTwoBytes() {
        var d = FrameDecoder()
        d.feed([0x16, 0x03])  // a TLS ClientHello on the plaintext port
        #expect(throws: WireError.badMagic(0x1603)) { try d.next() }
    }

    @Test func limitFollowsNegotiationAndIsCapped() throws {
        var d = FrameDecoder()
        #expect(d.maxPayload == Limits.handshakePayload)
        d.setMaxPayload(.max)
        #expect(d.maxPayload == Limits.absoluteMaxPayload)
        let big = try encode(.flowBatch(FlowBatch(agentId: "n", sequence: 1, records: [Array(repeating: 1, count: 65_000),
                                                                                       Array(repeating: 2, count: 1_000)])))
        var small = FrameDecoder()
        small.feed(big)
        #expect(throws: WireError.frameTooLarge(declared: UInt64(big.count - FrameHeader.size), limit: 65_536)) {
            try small.next()
        }
        d.feed(big)
        #expect(try d.next() != nil)
    }

    @Test func encoderRefusesAPayloadAboveTheNegotiatedSize() {
        let m = Message.flowBatch(FlowBatch(agentId: "n", sequence: 1, records: [Array(repeating: 0, count: 70_000 / 2),
                                                                                Array(repeating: 0, count: 70_000 / 2)]))
        #expect(throws: WireError.self) { try encode(m, maxPayload: Limits.handshakePayload) }
    }
}

@Suite struct EncoderLimitTests {
    @Test func encoderEnforcesTheDecodersLimits() {
        let long = String(repeating: "x", count: Limits.label + 1)
        #expect(throws: WireError.lengthLimitExceeded(field: "hello.capabilities", length: 65, limit: 64)) {
            try Frame(.hello(Hello(role: .agent, capabilities: [long])))
        }
        #expect(throws: WireError.invalidValue(field: "program_bundle.sha256", value: 31)) {
            try Frame(.programBundle(ProgramBundle(name: "p", version: "1", sha256: Array(repeating: 0, count: 31),
                                                   signature: Array(repeating: 0, count: 64), signerKeyId: "k", object: [])))
        }
        #expect(throws: WireError.invalidValue(field: "rule.sampling_ppm", value: 1_000_001)) {
            try Frame(.ruleSet(RuleSet(version: 1, rules: [Rule(id: "r", samplingPpm: 1_000_001)])))
        }
        #expect(throws: WireError.invalidValue(field: "rule.ports", value: 10)) {
            try Frame(.ruleSet(RuleSet(version: 1, rules: [Rule(id: "r", ports: [PortRange(20, 10)])])))
        }
        #expect(throws: WireError.invalidValue(field: "hello_accept.max_payload_size", value: 1)) {
            try Frame(.helloAccept(HelloAccept(version: 1, capabilities: [], serverId: "s", maxPayloadSize: 1)))
        }
        #expect(throws: WireError.countLimitExceeded(field: "heartbeat.counters", count: 129, limit: 128)) {
            try Frame(.heartbeat(Heartbeat(timestampNs: 0, counters: Array(repeating: Counter("c", 1), count: 129))))
        }
        #expect(throws: WireError.invalidValue(field: "hello.max_version", value: 1)) {
            try Frame(.hello(Hello(minVersion: 2, maxVersion: 1, role: .agent)))
        }
    }

    @Test func errorCodesClassifyFatality() {
        #expect(ErrorCode.frameTooLarge.isFatal && ErrorCode.unsupportedProtocolVersion.isFatal)
        #expect(!ErrorCode.unknownMessageType.isFatal && !ErrorCode.overloaded.isFatal)
        #expect(ErrorCode(rawValue: 0x01FF).isFatal && !ErrorCode(rawValue: 0x02FF).isFatal)
        #expect(WireError.frameTooLarge(declared: 1, limit: 0).errorCode == .frameTooLarge)
        #expect(WireError.unknownMessageType(MessageType(rawValue: 9)).errorCode == .unknownMessageType)
    }

    @Test func errorTextIsClippedToTheLimit() throws {
        let e = WireError.invalidUTF8(field: String(repeating: "é", count: 5_000))
        let m = ErrorMessage(e)
        #expect(m.message.utf8.count <= Limits.text && m.message.utf8.count >= Limits.text - 1)
        _ = try Frame(.error(m))
        #expect(ErrorMessage(.frameTooLarge(declared: 65_537, limit: 65_536)).message
                    == "frame too large: 65537 bytes declared, limit 65536")
    }

    @Test func clipCutsOnScalarBoundaries() {
        #expect(Limits.clip("abc", toUTF8Bytes: 5) == "abc")
        #expect(Limits.clip("aé🦀", toUTF8Bytes: 3) == "aé")
        #expect(Limits.clip("aé🦀", toUTF8Bytes: 6) == "aé")
        #expect(Limits.clip("aé🦀", toUTF8Bytes: 7) == "aé🦀")
        #expect(Limits.clip("🦀", toUTF8Bytes: 0) == "")
    }
}

@Suite struct HandshakeTests {
    @Test func choosesHighestCommonVersion() {
        #expect(Handshake.chooseVersion(client: 1...3, server: 2...5) == 3)
        #expect(Handshake.chooseVersion(client: 1...1, server: 1...1) == 1)
        #expect(Handshake.chooseVersion(client: 4...6, server: 1...3) == nil)
    }

    @Test func acceptsWithIntersectionOfCapabilities() {
        let hello = Hello(minVersion: 1, maxVersion: 3, role: .agent, capabilities: ["rules", "programs", "future.x"])
        let reply = Handshake.respond(to: hello, versions: 1...2, capabilities: ["rules", "spool"], serverId: "c")
        #expect(reply == .helloAccept(HelloAccept(version: 2, capabilities: ["rules"], serverId: "c")))
    }

    @Test func anInvertedRangeIsRejectedNotTrapped() {
        let reply = Handshake.respond(to: Hello(minVersion: 3, maxVersion: 1, role: .agent), capabilities: [], serverId: "c")
        guard case .error(let e) = reply else { Issue.record("expected an error"); return }
        #expect(e.code == .unsupportedProtocolVersion)
    }

    @Test func rejectsWithFatalErrorWhenNoVersionIsCommon() {
        let reply = Handshake.respond(to: Hello(minVersion: 7, maxVersion: 9, role: .consumer), capabilities: [],
                                      serverId: "c")
        guard case .error(let e) = reply else {
            Issue.record("expected an error, got \(reply)")
            return
        }
        #expect(e.code == .unsupportedProtocolVersion && e.code.isFatal)
    }
}
