/// An operator's request for the controller's view of its agents (`netobs agents`).
public struct AgentListRequest: WireMessage {
    public static let type = MessageType.agentListRequest
    public static let version: UInt16 = 1

    public init() {}

    public func encode(into w: inout ByteWriter) throws(WireError) { w.noTaggedFields() }

    public init(from r: inout ByteReader) throws(WireError) { try r.taggedFields("agent_list_request.tagged") }
}

/// What the controller knows of one agent.
public struct AgentStatus: Sendable, Equatable {
    public var nodeName: String
    /// The agent certificate's common name (the controller refuses a Hello naming another node).
    public var identity: String
    public var connected: Bool
    /// The `l4` bundle version it runs ("" until it reported one); every object's is in `programVersions`.
    public var programVersion: String
    /// The rule set version it applied (0: none).
    public var rulesVersion: UInt64
    /// Why the last rule set or program bundle was refused ("" when nothing was).
    public var detail: String
    /// Highest sequence stored durably and acknowledged, and highest received.
    public var ackedSequence: UInt64
    public var seenSequence: UInt64
    /// Controller wall clock of the last FlowBatch, unix ns (0: never).
    public var lastBatchNs: UInt64
    /// Records the agent reported lost (sum of its `loss` records' counts).
    public var lostRecords: UInt64
    /// The counters of its last Heartbeat.
    public var counters: [Counter]
    /// Tagged field 0: the hook report of its last Hello (kept after it disconnects).
    public var hooks: [HookStatus]
    /// Tagged field 1: the version of each object it loaded from a bundle, sorted by name (an object
    /// not listed runs the agent's embedded build). See `programVersion(of:)`.
    public var programVersions: [ProgramVersion]

    public init(nodeName: String, identity: String, connected: Bool, programVersion: String = "",
                rulesVersion: UInt64 = 0, detail: String = "", ackedSequence: UInt64 = 0, seenSequence: UInt64 = 0,
                lastBatchNs: UInt64 = 0, lostRecords: UInt64 = 0, counters: [Counter] = [],
                hooks: [HookStatus] = [], programVersions: [ProgramVersion] = []) {
        self.nodeName = nodeName
        self.identity = identity
        self.connected = connected
        self.programVersion = programVersion
        self.rulesVersion = rulesVersion
        self.detail = detail
        self.ackedSequence = ackedSequence
        self.seenSequence = seenSequence
        self.lastBatchNs = lastBatchNs
        self.lostRecords = lostRecords
        self.counters = counters
        self.hooks = hooks
        self.programVersions = programVersions
    }

    // node(1) identity(1) connected(1) program(1) rules(8) detail(1) acked(8) seen(8) last(8) lost(8) counters(1) tagged(1)
    static let minEncodedSize = 47

    func encode(into w: inout ByteWriter) throws(WireError) {
        try w.string(nodeName, limit: Limits.name, field: "agent_status.node_name")
        try w.string(identity, limit: Limits.name, field: "agent_status.identity")
        w.bool(connected)
        try w.string(programVersion, limit: Limits.label, field: "agent_status.program_version")
        w.u64(rulesVersion)
        try w.string(detail, limit: Limits.text, field: "agent_status.detail")
        w.u64(ackedSequence)
        w.u64(seenSequence)
        w.u64(lastBatchNs)
        w.u64(lostRecords)
        try w.list(counters, limit: Limits.counters, "agent_status.counters") { c, w throws(WireError) in
            try w.string(c.name, limit: Limits.label, field: "agent_status.counters.name")
            w.u64(c.value)
        }
        // No hooks and no versions: the single 0x00 of an empty section, as before the fields existed.
        var tagged: [TaggedField] = []
        try tagged.appendHooks(hooks, tag: 0, "agent_status.hooks")
        try tagged.appendProgramVersions(programVersions, tag: 1, "agent_status.program_versions")
        try w.taggedFields(tagged, "agent_status.tagged")
    }

    init(from r: inout ByteReader) throws(WireError) {
        nodeName = try r.string(limit: Limits.name, "agent_status.node_name")
        identity = try r.string(limit: Limits.name, "agent_status.identity")
        connected = try r.bool("agent_status.connected")
        programVersion = try r.string(limit: Limits.label, "agent_status.program_version")
        rulesVersion = try r.u64("agent_status.rules_version")
        detail = try r.string(limit: Limits.text, "agent_status.detail")
        ackedSequence = try r.u64("agent_status.acked_sequence")
        seenSequence = try r.u64("agent_status.seen_sequence")
        lastBatchNs = try r.u64("agent_status.last_batch_ns")
        lostRecords = try r.u64("agent_status.lost_records")
        counters = try r.list(limit: Limits.counters, minElementSize: 9, "agent_status.counters") { r throws(WireError) in
            Counter(try r.string(limit: Limits.label, "agent_status.counters.name"),
                    try r.u64("agent_status.counters.value"))
        }
        var hooks: [HookStatus] = []
        var versions: [ProgramVersion] = []
        try r.taggedFields("agent_status.tagged") { tag, v throws(WireError) in
            switch tag {
            case 0: hooks = try v.hooks("agent_status.hooks")
            case 1: versions = try v.programVersions("agent_status.program_versions")
            default: return false
            }
            return true
        }
        self.hooks = hooks
        programVersions = versions
    }
}

/// The reply to AgentListRequest: every agent the controller has seen since it started.
public struct AgentList: WireMessage {
    public static let type = MessageType.agentList
    public static let version: UInt16 = 1

    /// Controller wall clock when the list was made, unix ns (to turn `lastBatchNs` into an age).
    public var timestampNs: UInt64
    public var agents: [AgentStatus]

    public init(timestampNs: UInt64, agents: [AgentStatus]) {
        self.timestampNs = timestampNs
        self.agents = agents
    }

    public func encode(into w: inout ByteWriter) throws(WireError) {
        w.u64(timestampNs)
        try w.list(agents, limit: Limits.agents, "agent_list.agents") { a, w throws(WireError) in
            try a.encode(into: &w)
        }
        w.noTaggedFields()
    }

    public init(from r: inout ByteReader) throws(WireError) {
        timestampNs = try r.u64("agent_list.timestamp_ns")
        agents = try r.list(limit: Limits.agents, minElementSize: AgentStatus.minEncodedSize, "agent_list.agents") {
            r throws(WireError) in try AgentStatus(from: &r)
        }
        try r.taggedFields("agent_list.tagged")
    }
}
