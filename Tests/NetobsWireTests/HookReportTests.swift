import NetobsWire
import Testing

/// The hook report (Hello tagged field 1, AgentStatus tagged field 0): added by extension, so a
/// peer that sends none writes exactly the bytes it wrote before, and old bytes decode to no hooks.
@Suite struct HookReportTests {
    static let identity = AgentIdentity(nodeName: "node-1", agentVersion: "0.1.0", kernelRelease: "6.1.0-18-amd64")
    static let hook = HookStatus(hook: "cgroup_skb", tier: "portable", programType: "cgroup_skb")

    func message(_ name: String) throws -> Message { try decodeFrames(try Vectors.load(name))[0].message() }

    @Test func helloWithoutHooksIsByteIdenticalToBefore() throws {
        let hello = Hello(minVersion: 1, maxVersion: 1, role: .agent, capabilities: ["rules", "programs", "records.json"],
                          agent: Self.identity, hooks: [])
        #expect(hex(try encode(.hello(hello), correlationId: 1)) == hex(try Vectors.load("hello")))
        guard case .hello(let old) = try message("hello") else { Issue.record("not a Hello"); return }
        #expect(old.hooks.isEmpty)
    }

    /// What an old receiver keeps of a Hello with hooks (it skips tag 1) is the Hello of before.
    @Test func helloWithHooksMinusTheReportIsTheOldHello() throws {
        guard case .hello(var hello) = try message("hello_hooks") else { Issue.record("not a Hello"); return }
        #expect(hello.hooks.count == 2)
        hello.hooks = []
        #expect(hex(try encode(.hello(hello), correlationId: 1)) == hex(try Vectors.load("hello")))
    }

    @Test func agentStatusWithoutHooksIsByteIdenticalToBefore() throws {
        guard case .agentList(let list) = try message("agent_list") else { Issue.record("not an AgentList"); return }
        #expect(list.agents.map(\.hooks) == [[]])
        #expect(hex(try encode(.agentList(list), correlationId: 6, flags: .reply)) == hex(try Vectors.load("agent_list")))
    }

    @Test func limitSizedReportsRoundTrip() throws {
        let full = HookStatus(hook: String(repeating: "h", count: Limits.label), tier: String(repeating: "t", count: Limits.label),
                              programType: String(repeating: "p", count: Limits.label),
                              metricsOff: Array(repeating: String(repeating: "m", count: Limits.label), count: Limits.metricsOffPerHook),
                              reason: String(repeating: "é", count: Limits.text / 2))
        let hooks = Array(repeating: full, count: Limits.hooks)
        let hello = Message.hello(Hello(role: .agent, agent: Self.identity, hooks: hooks))
        #expect(try decodeFrames(try encode(hello))[0].message() == hello)
        let list = Message.agentList(AgentList(timestampNs: 1, agents: [AgentStatus(nodeName: "n", identity: "n",
                                                                                    connected: true, hooks: hooks)]))
        #expect(try decodeFrames(try encode(list))[0].message() == list)
    }

    @Test func encoderRefusesReportsAboveTheLimits() {
        let tooMany = Array(repeating: Self.hook, count: Limits.hooks + 1)
        #expect(throws: WireError.countLimitExceeded(field: "hello.hooks", count: 65, limit: 64)) {
            try Frame(.hello(Hello(role: .agent, agent: Self.identity, hooks: tooMany)))
        }
        #expect(throws: WireError.countLimitExceeded(field: "agent_status.hooks", count: 65, limit: 64)) {
            try Frame(.agentList(AgentList(timestampNs: 0, agents: [AgentStatus(nodeName: "n", identity: "n", connected: true,
                                                                                hooks: tooMany)])))
        }
        var offs = Self.hook
        offs.metricsOff = Array(repeating: "tcp_drop", count: Limits.metricsOffPerHook + 1)
        #expect(throws: WireError.countLimitExceeded(field: "hello.hooks.metrics_off", count: 65, limit: 64)) {
            try Frame(.hello(Hello(role: .agent, hooks: [offs])))
        }
        var long = Self.hook
        long.reason = String(repeating: "r", count: Limits.text + 1)
        #expect(throws: WireError.lengthLimitExceeded(field: "hello.hooks.reason", length: 4_097, limit: 4_096)) {
            try Frame(.hello(Hello(role: .agent, hooks: [long])))
        }
        long = Self.hook
        long.hook = String(repeating: "k", count: Limits.label + 1)
        #expect(throws: WireError.lengthLimitExceeded(field: "agent_status.hooks.hook", length: 65, limit: 64)) {
            try Frame(.agentList(AgentList(timestampNs: 0, agents: [AgentStatus(nodeName: "n", identity: "n", connected: true,
                                                                                hooks: [long])])))
        }
    }

    /// 65 hooks of the smallest encoding, as the value of a `hooks` tagged field.
    static let tooManyHooks: [UInt8] = [65] + Array(repeating: 0, count: 65 * 6)

    @Test func decoderRefusesSixtyFiveHooksBeforeReadingThem() {
        var hello = ByteWriter()
        hello.u16(1)
        hello.u16(1)
        hello.u8(Role.agent.rawValue)
        hello.uvarint(0)  // capabilities
        hello.uvarint(1)  // tagged: count 1
        hello.uvarint(1)  // tag 1 (hooks)
        try? hello.bytes(Self.tooManyHooks, limit: .max, field: "value")
        #expect(throws: WireError.countLimitExceeded(field: "hello.hooks", count: 65, limit: 64)) {
            try Message.decode(type: .hello, version: 1, payload: hello.bytes[...])
        }

        var list = ByteWriter()
        list.u64(0)
        list.uvarint(1)  // agents
        try? list.string("n", limit: 1, field: "node_name")
        try? list.string("n", limit: 1, field: "identity")
        list.bool(true)
        list.uvarint(0)  // program_version
        list.u64(0)
        list.uvarint(0)  // detail
        for _ in 0..<4 { list.u64(0) }
        list.uvarint(0)  // counters
        list.uvarint(1)  // agent tagged: count 1
        list.uvarint(0)  // tag 0 (hooks)
        try? list.bytes(Self.tooManyHooks, limit: .max, field: "value")
        list.uvarint(0)  // list tagged: none
        #expect(throws: WireError.countLimitExceeded(field: "agent_status.hooks", count: 65, limit: 64)) {
            try Message.decode(type: .agentList, version: 1, payload: list.bytes[...])
        }
    }

    /// Each hook ends with its own tagged section: a field a newer agent adds to one hook is skipped.
    @Test func unknownTagInsideAHookIsSkipped() throws {
        var value = ByteWriter()
        value.uvarint(1)  // hooks: count 1
        for s in ["kfree_skb", "off", ""] { try value.string(s, limit: 64, field: "s") }
        value.uvarint(0)  // metrics_off
        value.uvarint(0)  // reason
        try value.taggedFields([(7, [0xCA, 0xFE])], "hook.tagged")
        var hello = ByteWriter()
        hello.u16(1)
        hello.u16(1)
        hello.u8(Role.agent.rawValue)
        hello.uvarint(0)
        try hello.taggedFields([(1, value.bytes)], "hello.tagged")
        let decoded = try Message.decode(type: .hello, version: 1, payload: hello.bytes[...])
        #expect(decoded == .hello(Hello(minVersion: 1, maxVersion: 1, role: .agent,
                                        hooks: [HookStatus(hook: "kfree_skb", tier: "off", programType: "")])))
    }
}
