import NetobsWire
import Testing

/// One golden vector: the frame header fields and the message its payload must decode to.
struct Golden: Sendable, CustomTestStringConvertible {
    var name: String
    var correlationId: UInt64
    var flags: FrameFlags = []
    var message: Message
    var testDescription: String { name }
}

let programObject: [UInt8] = [0x7F, 0x45, 0x4C, 0x46, 0x02, 0x01, 0x01, 0x00]
let programDigest = parseHex("e94466faac02d08efbb3109dbe52d0c13c5a53859e328d50dbeb2e6f0ee89871")
let programSignature = parseHex("""
    1d5652e9dec862f931e91b96891f6c35ded28170080bc318ac522f006ea2dc6c
    de787e7ed606ebf7d5c39c372bc4a698daeadf4945cdad86c3c4e06f8516d400
    """)

/// The messages of PROTOCOL.md §8; the bytes come from proto-spec/make_vectors.py, an independent encoder.
let goldens: [Golden] = [
    Golden(name: "hello", correlationId: 1, message: .hello(Hello(
        minVersion: 1, maxVersion: 1, role: .agent, capabilities: ["rules", "programs", "records.json"],
        agent: AgentIdentity(nodeName: "node-1", agentVersion: "0.1.0", kernelRelease: "6.1.0-18-amd64")))),
    Golden(name: "hello_consumer", correlationId: 1, message: .hello(Hello(minVersion: 1, maxVersion: 2, role: .consumer))),
    Golden(name: "hello_accept", correlationId: 1, flags: .reply, message: .helloAccept(HelloAccept(
        version: 1, capabilities: ["programs", "rules"], serverId: "ctrl-0", maxPayloadSize: 20_971_520,
        heartbeatIntervalMs: 5_000))),
    Golden(name: "heartbeat", correlationId: 0, message: .heartbeat(Heartbeat(
        timestampNs: 1_700_000_000_123_456_789, counters: [Counter("records_sent", 1234), Counter("ringbuf_drops", 0)]))),
    Golden(name: "error", correlationId: 7, flags: .reply, message: .error(ErrorMessage(
        code: .unknownMessageType, message: "unknown message type 0x7f00", failedCorrelationId: 7))),
    Golden(name: "rule_set", correlationId: 2, message: .ruleSet(RuleSet(
        version: 3,
        rules: [Rule(id: "default", namespaces: ["shop"], cgroupIds: [0x1234],
                     ports: [PortRange(port: 80), PortRange(8080, 8090)], protocols: [.tcp, .http],
                     samplingPpm: 1_000_000, l7: true, options: [KeyValue(key: "http.max_uri", text: "256")])],
        options: [KeyValue(key: "flush_interval_ms", text: "1000")]))),
    Golden(name: "rule_set_ack", correlationId: 2, flags: .reply,
           message: .ruleSetAck(RuleSetAck(ruleSetVersion: 3, accepted: true))),
    Golden(name: "program_bundle", correlationId: 3, message: .programBundle(ProgramBundle(
        name: "netobs", version: "1.2.0", sha256: programDigest, signature: programSignature,
        signerKeyId: "rfc8032-test-1", object: programObject))),
    Golden(name: "program_status", correlationId: 3, flags: .reply, message: .programStatus(ProgramStatus(
        name: "netobs", version: "1.2.0", state: .rejected, verifierLog: "R1 invalid mem access 'scalar'\n",
        error: "verifier rejected program"))),
    Golden(name: "flow_batch", correlationId: 4, message: .flowBatch(FlowBatch(
        agentId: "node-1", sequence: 42, format: .jsonLines,
        records: [Array(#"{"kind":"tcp"}"#.utf8), Array(#"{"kind":"dns"}"#.utf8)]))),
    Golden(name: "ack", correlationId: 4, flags: .reply, message: .ack(Ack(sequence: 42, cumulative: true))),
    Golden(name: "subscribe", correlationId: 9, message: .subscribe(Subscribe(
        namespace: "shop", service: "carts", kind: "http", status: "5xx"))),
    Golden(name: "stream_batch", correlationId: 9, flags: .reply, message: .streamBatch(StreamBatch(
        sequence: 1, dropped: 0, format: .jsonLines, records: [Array(#"{"kind":"http","http_status_code":503}"#.utf8)]))),
    Golden(name: "rule_set_exclude", correlationId: 5, message: .ruleSet(RuleSet(
        version: 4, rules: [Rule(id: "exclude-ports", ports: [PortRange(port: 9000)], exclude: true)]))),
    Golden(name: "subscribe_replay", correlationId: 10, message: .subscribe(Subscribe(
        namespace: "shop", kind: "http", replayLast: 50))),
    Golden(name: "subscribe_match", correlationId: 11, message: .subscribe(Subscribe(
        kind: "http", replayLast: 100,
        match: StreamMatch(include: [MatchClause("from_pod", ["shop/front-end", "shop/carts"]), MatchClause("http_path", ["/cart*"])],
                           exclude: [MatchClause("to_ip", ["10.96.0.0/12"])]),
        sinceNs: 1_700_000_000_000_000_000, untilNs: 1_700_000_060_000_000_000))),
    Golden(name: "stream_batch_replay_end", correlationId: 10, flags: .reply, message: .streamBatch(StreamBatch(
        sequence: 2, dropped: 0, format: .jsonLines, records: [Array(#"{"kind":"http","http_status_code":200}"#.utf8)],
        replayEnd: true))),
    Golden(name: "agent_list_request", correlationId: 6, message: .agentListRequest(AgentListRequest())),
    Golden(name: "agent_list", correlationId: 6, flags: .reply, message: .agentList(AgentList(
        timestampNs: 1_700_000_000_000_000_000,
        agents: [AgentStatus(nodeName: "node-1", identity: "node-1", connected: true, programVersion: "1.2.0",
                             rulesVersion: 4, ackedSequence: 42, seenSequence: 43,
                             lastBatchNs: 1_699_999_999_000_000_000, lostRecords: 7,
                             counters: [Counter("spool_overflow", 7)])]))),
    Golden(name: "hello_hooks", correlationId: 1, message: .hello(Hello(
        minVersion: 1, maxVersion: 1, role: .agent, capabilities: ["rules", "programs", "records.json"],
        agent: AgentIdentity(nodeName: "node-1", agentVersion: "0.1.0", kernelRelease: "6.1.0-18-amd64"),
        hooks: [HookStatus(hook: "inet_sock_set_state", tier: "btf", programType: "tp_btf"), kfreeSkbOff]))),
    Golden(name: "agent_list_hooks", correlationId: 6, flags: .reply, message: .agentList(AgentList(
        timestampNs: 1_700_000_000_000_000_000,
        agents: [AgentStatus(nodeName: "node-2", identity: "node-2", connected: false,
                             hooks: [HookStatus(hook: "inet_sock_set_state", tier: "portable", programType: "raw_tracepoint"),
                                     kfreeSkbOff])]))),
    Golden(name: "agent_list_programs", correlationId: 6, flags: .reply, message: .agentList(AgentList(
        timestampNs: 1_700_000_000_000_000_000,
        agents: [AgentStatus(nodeName: "node-1", identity: "node-1", connected: true, programVersion: "1.2.0",
                             rulesVersion: 4, ackedSequence: 42, seenSequence: 43,
                             lastBatchNs: 1_699_999_999_000_000_000, lostRecords: 7,
                             counters: [Counter("spool_overflow", 7)],
                             programVersions: [ProgramVersion(name: "l4", version: "1.2.0"),
                                               ProgramVersion(name: "l7", version: "2.0.1")])]))),
    Golden(name: "bootstrap_request", correlationId: 1, message: .bootstrapRequest(BootstrapRequest(
        nodeName: "node-1", token: "abcdef.0123456789abcdef", csr: bootstrapCSR))),
    Golden(name: "bootstrap_response", correlationId: 1, flags: .reply,
           message: .bootstrapResponse(BootstrapResponse(certificate: bootstrapCertificate))),
]

/// The CSR (CN=node-1) and the certificate of the bootstrap vectors, DER, both made with the RFC 8032
/// test key by make_vectors.py (Ed25519 signs deterministically).
let bootstrapCSR = parseHex("""
    30819030440201003011310f300d06035504030c066e6f64652d31302a300506032b6570032100d75a980182b10ab7d54bfed3c9
    64073a0ee172f3daa62325af021a68f707511aa000300506032b65700341001372495e03e7482044fae827e489b76cf75c011728
    bc76325cb3e308c2e3c583380901e277d08079cca44aed2e73e7e28b00230123faa62fc33a28dbb219a305
    """)
let bootstrapCertificate = parseHex("""
    308201263081d9a00302010202021234300506032b657030193117301506035504030c0e6e65746f62732074657374204341301e
    170d3233313131343232303832305a170d3233313131353232303832305a3039310f300d060355040a0c066e65746f6273311530
    13060355040b0c0c6e65746f62732d6167656e74310f300d06035504030c066e6f64652d31302a300506032b6570032100d75a98
    0182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511aa3253023300c0603551d130101ff040230003013060355
    1d25040c300a06082b06010505070302300506032b6570034100931daa70db7602aa4fb6820e138b930e6c4eaa2d1b375f29f103
    a94ad9914b395033dd5e483dff9d007e3c25fdd3d9077bacafe810b9282f1b8be1730e6afe01
    """)

/// The hook that could not attach in both hook vectors.
let kfreeSkbOff = HookStatus(hook: "kfree_skb", tier: "off", programType: "", metricsOff: ["tcp_drop"],
                             reason: "attach failed: ENOENT")

/// Valid but non-canonical inputs: they show the extension rules and decode to a known message.
let decodeOnly: [Golden] = [
    Golden(name: "hello_unknown_tag", correlationId: 1, message: .hello(Hello(minVersion: 1, maxVersion: 2, role: .consumer))),
    Golden(name: "ack_unknown_flag", correlationId: 4, flags: FrameFlags(rawValue: 0x81),
           message: .ack(Ack(sequence: 42, cumulative: true))),
]

@Suite struct GoldenVectorTests {
    @Test(arguments: goldens)
    func decodesToMessage(_ g: Golden) throws {
        let frames = try decodeFrames(try Vectors.load(g.name), maxPayload: Limits.handshakePayload)
        try #require(frames.count == 1)
        #expect(frames[0].type == g.message.type)
        #expect(frames[0].version == 1)
        #expect(frames[0].correlationId == g.correlationId)
        #expect(frames[0].flags == g.flags)
        #expect(try frames[0].message() == g.message)
    }

    @Test(arguments: goldens)
    func encodesToExactBytes(_ g: Golden) throws {
        let bytes = try encode(g.message, correlationId: g.correlationId, flags: g.flags)
        #expect(hex(bytes) == hex(try Vectors.load(g.name)))
    }

    @Test(arguments: decodeOnly)
    func extensionRulesDecode(_ g: Golden) throws {
        let frames = try decodeFrames(try Vectors.load(g.name))
        try #require(frames.count == 1)
        #expect(frames[0].flags == g.flags)
        #expect(try frames[0].message() == g.message)
    }

    @Test func unknownTaggedFieldIsSkippedToTheCanonicalForm() throws {
        let extended = try decodeFrames(try Vectors.load("hello_unknown_tag"))[0]
        let canonical = try Vectors.load("hello_consumer")
        #expect(encode(try Frame(try extended.message(), correlationId: extended.correlationId)) == canonical)
    }

    /// Every vector file is covered by a test, so a new vector cannot silently go unchecked.
    @Test func everyVectorFileIsChecked() throws {
        let known = Set(goldens.map(\.name) + decodeOnly.map(\.name) + invalidVectors.map { "invalid_" + $0.name })
        #expect(Set(try Vectors.all()) == known)
    }

    @Test func signingInputMatchesTheSpec() {
        guard case .programBundle(let b) = goldens.first(where: { $0.name == "program_bundle" })!.message else {
            Issue.record("not a bundle")
            return
        }
        // Printed by make_vectors.py; the vector's signature verifies over exactly these bytes with
        // the RFC 8032 test key d75a9801...511a.
        #expect(hex(b.signingInput) == "6e65746f62732d62756e646c652d763100066e65746f627305312e322e300e72666338303332"
            + "2d746573742d31e94466faac02d08efbb3109dbe52d0c13c5a53859e328d50dbeb2e6f0ee89871")
    }
}

/// An invalid vector and where it must fail: in the frame decoder (fatal) or in message decoding.
struct Invalid: Sendable, CustomTestStringConvertible {
    enum Stage: Sendable { case frame, message }
    var name: String
    var stage: Stage
    var error: WireError
    var testDescription: String { name }
}

let invalidVectors: [Invalid] = [
    Invalid(name: "bad_magic", stage: .frame, error: .badMagic(0x4745)),
    Invalid(name: "bad_frame_version", stage: .frame, error: .unsupportedFrameVersion(2)),
    Invalid(name: "frame_too_large", stage: .frame, error: .frameTooLarge(declared: 65_537, limit: 65_536)),
    Invalid(name: "unknown_type", stage: .message, error: .unknownMessageType(MessageType(rawValue: 0x7F00))),
    Invalid(name: "unsupported_version", stage: .message, error: .unsupportedMessageVersion(.hello, version: 2)),
    Invalid(name: "invalid_utf8", stage: .message, error: .invalidUTF8(field: "flow_batch.agent_id")),
    Invalid(name: "count_limit", stage: .message,
            error: .countLimitExceeded(field: "flow_batch.records", count: 65_537, limit: 65_536)),
    Invalid(name: "truncated_string", stage: .message,
            error: .truncated(field: "rule_set_ack.detail", needed: 10, available: 2)),
    Invalid(name: "length_limit", stage: .message,
            error: .lengthLimitExceeded(field: "subscribe.namespace", length: 65, limit: 64)),
    Invalid(name: "non_minimal_varint", stage: .message, error: .malformedVarint(field: "ack.tagged")),
    Invalid(name: "bad_bool", stage: .message, error: .invalidValue(field: "ack.cumulative", value: 2)),
    Invalid(name: "unsorted_set", stage: .message, error: .unsortedSet(field: "hello.capabilities")),
    Invalid(name: "tag_order", stage: .message, error: .taggedFieldOrder(previous: 1, tag: 0)),
    Invalid(name: "trailing_bytes", stage: .message, error: .trailingBytes(field: "payload", count: 1)),
    Invalid(name: "bad_enum", stage: .message, error: .invalidValue(field: "program_status.state", value: 9)),
    Invalid(name: "bootstrap_csr_limit", stage: .message,
            error: .lengthLimitExceeded(field: "bootstrap_request.csr", length: 16_385, limit: 16_384)),
    Invalid(name: "bootstrap_token_limit", stage: .message,
            error: .lengthLimitExceeded(field: "bootstrap_request.token", length: 65, limit: 64)),
]

@Suite struct InvalidVectorTests {
    @Test(arguments: invalidVectors)
    func failsWithTypedError(_ v: Invalid) throws {
        let bytes = try Vectors.load("invalid_" + v.name)
        switch v.stage {
        case .frame:
            #expect(v.error.isFatal)
            #expect(throws: v.error) { try decodeFrames(bytes, maxPayload: Limits.handshakePayload) }
        case .message:
            #expect(!v.error.isFatal)
            let frames = try decodeFrames(bytes, maxPayload: Limits.handshakePayload)
            try #require(frames.count == 1)
            #expect(throws: v.error) { try frames[0].message() }
        }
    }

    /// A message-level failure can be answered: the Error message for it encodes and names the frame.
    @Test(arguments: invalidVectors.filter { $0.stage == .message })
    func messageErrorsAreAnswerable(_ v: Invalid) throws {
        let reply = ErrorMessage(v.error, failedCorrelationId: 7)
        #expect(!reply.code.isFatal)
        let bytes = try encode(.error(reply), correlationId: 7, flags: .reply)
        #expect(try decodeFrames(bytes)[0].message() == .error(reply))
    }
}
