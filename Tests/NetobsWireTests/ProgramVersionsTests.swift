import NetobsWire
import Testing

/// Per-object program versions (AgentStatus tagged field 1): added by extension, so a controller
/// with none to report writes exactly the bytes it wrote before, and old bytes decode to none.
@Suite struct ProgramVersionsTests {
    static let l4 = ProgramVersion(name: "l4", version: "1.2.0")
    static let l7 = ProgramVersion(name: "l7", version: "2.0.1")

    func list(_ name: String) throws -> AgentList {
        guard case .agentList(let list) = try decodeFrames(try Vectors.load(name))[0].message() else {
            throw WireError.invalidValue(field: "not an AgentList", value: 0)
        }
        return list
    }

    func roundTrip(_ status: AgentStatus) throws -> AgentStatus? {
        let message = Message.agentList(AgentList(timestampNs: 1, agents: [status]))
        guard case .agentList(let back) = try decodeFrames(try encode(message))[0].message() else { return nil }
        return back.agents.first
    }

    @Test func knownObjects() {
        #expect(ProgramBundle.knownObjects == ["l4", "l7"])
    }

    @Test func oldBytesDecodeToNoVersionsAndReencodeIdentically() throws {
        for name in ["agent_list", "agent_list_hooks"] {
            let old = try list(name)
            #expect(old.agents.map(\.programVersions) == [[]])
            #expect(hex(try encode(.agentList(old), correlationId: 6, flags: .reply)) == hex(try Vectors.load(name)))
        }
    }

    /// What an old reader keeps of a list with versions (it skips tag 1) is the list of before,
    /// `program_version` still saying the l4 version.
    @Test func versionsMinusTheFieldIsTheOldAgentList() throws {
        var list = try list("agent_list_programs")
        #expect(list.agents[0].programVersions == [Self.l4, Self.l7])
        #expect(list.agents[0].programVersion == Self.l4.version)
        list.agents[0].programVersions = []
        #expect(hex(try encode(.agentList(list), correlationId: 6, flags: .reply)) == hex(try Vectors.load("agent_list")))
    }

    @Test func roundTripWithHooksAndVersions() throws {
        let status = AgentStatus(nodeName: "n", identity: "n", connected: true, programVersion: "1.2.0",
                                 hooks: [HookStatus(hook: "cgroup_skb", tier: "portable", programType: "cgroup_skb")],
                                 programVersions: [Self.l4, Self.l7])
        #expect(try roundTrip(status) == status)
        let full = Array(repeating: ProgramVersion(name: String(repeating: "n", count: Limits.label),
                                                   version: String(repeating: "é", count: Limits.label / 2)),
                         count: Limits.programVersions)
        let limitSized = AgentStatus(nodeName: "n", identity: "n", connected: false, programVersions: full)
        #expect(try roundTrip(limitSized) == limitSized)
    }

    @Test func encoderRefusesVersionsAboveTheLimits() {
        func frame(_ versions: [ProgramVersion]) throws {
            _ = try Frame(.agentList(AgentList(timestampNs: 0, agents: [
                AgentStatus(nodeName: "n", identity: "n", connected: true, programVersions: versions)])))
        }
        #expect(throws: WireError.countLimitExceeded(field: "agent_status.program_versions", count: 17, limit: 16)) {
            try frame(Array(repeating: Self.l4, count: Limits.programVersions + 1))
        }
        #expect(throws: WireError.lengthLimitExceeded(field: "agent_status.program_versions.version", length: 65, limit: 64)) {
            try frame([ProgramVersion(name: "l4", version: String(repeating: "v", count: 65))])
        }
    }

    /// An AgentList of one minimal agent whose tagged section is `tags`.
    func agentList(tags: [(UInt32, [UInt8])]) throws -> [UInt8] {
        var w = ByteWriter()
        w.u64(0)
        w.uvarint(1)  // agents
        try w.string("n", limit: 1, field: "node_name")
        try w.string("n", limit: 1, field: "identity")
        w.bool(true)
        w.uvarint(0)  // program_version
        w.u64(0)
        w.uvarint(0)  // detail
        for _ in 0..<4 { w.u64(0) }
        w.uvarint(0)  // counters
        try w.taggedFields(tags.map { ($0.0, $0.1) }, "agent.tagged")
        w.uvarint(0)  // list tagged: none
        return w.bytes
    }

    @Test func decoderRefusesSeventeenVersionsBeforeReadingThem() throws {
        let value: [UInt8] = [17] + Array(repeating: 0, count: 17 * 3)
        #expect(throws: WireError.countLimitExceeded(field: "agent_status.program_versions", count: 17, limit: 16)) {
            try Message.decode(type: .agentList, version: 1, payload: try agentList(tags: [(1, value)])[...])
        }
    }

    /// Each entry ends with its own tagged section: a field a newer controller adds to one is skipped.
    @Test func unknownTagInsideAVersionIsSkipped() throws {
        var value = ByteWriter()
        value.uvarint(1)  // count
        try value.string("l7", limit: 64, field: "name")
        try value.string("2.0.1", limit: 64, field: "version")
        try value.taggedFields([(3, [0xCA, 0xFE])], "version.tagged")
        let decoded = try Message.decode(type: .agentList, version: 1, payload: try agentList(tags: [(1, value.bytes)])[...])
        guard case .agentList(let list) = decoded else { Issue.record("not an AgentList"); return }
        #expect(list.agents.map(\.programVersions) == [[Self.l7]])
    }

    @Test func versionOfAnObject() {
        var s = AgentStatus(nodeName: "n", identity: "n", connected: true)
        #expect(s.programVersion(of: "l4") == "" && s.programVersion(of: "l7") == "")
        s.setProgramVersion("2.0", of: "l7")
        #expect(s.programVersions == [ProgramVersion(name: "l7", version: "2.0")] && s.programVersion == "")
        s.setProgramVersion("1.0", of: "l4")
        s.setProgramVersion("1.1", of: "l4")
        #expect(s.programVersions == [ProgramVersion(name: "l4", version: "1.1"), ProgramVersion(name: "l7", version: "2.0")])
        #expect(s.programVersion == "1.1")  // l4's, for consumers that predate objects
        #expect(s.programVersion(of: "l4") == "1.1" && s.programVersion(of: "l7") == "2.0")

        // From a controller that predates tag 1: only program_version, the l4 one.
        let old = AgentStatus(nodeName: "n", identity: "n", connected: true, programVersion: "0.9")
        #expect(old.programVersion(of: "l4") == "0.9" && old.programVersion(of: "l7") == "")
        // A name sent twice counts once, the last.
        let twice = AgentStatus(nodeName: "n", identity: "n", connected: true,
                                programVersions: [ProgramVersion(name: "l7", version: "1"), ProgramVersion(name: "l7", version: "2")])
        #expect(twice.programVersion(of: "l7") == "2")
    }
}
