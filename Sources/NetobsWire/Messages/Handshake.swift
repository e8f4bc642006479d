/// Who is connecting. The controller decides which messages each role may send (PROTOCOL.md §5).
public enum Role: UInt8, Sendable, Hashable, CaseIterable {
    case agent = 1
    case `operator` = 2
    case consumer = 3
}

/// The node an agent runs on, sent once in Hello.
public struct AgentIdentity: Sendable, Hashable {
    public var nodeName: String
    public var agentVersion: String
    public var kernelRelease: String

    public init(nodeName: String, agentVersion: String, kernelRelease: String) {
        self.nodeName = nodeName
        self.agentVersion = agentVersion
        self.kernelRelease = kernelRelease
    }
}

/// First frame from the connecting side: the protocol versions and capabilities it supports.
public struct Hello: WireMessage {
    public static let type = MessageType.hello
    public static let version: UInt16 = 1

    public var minVersion: UInt16
    public var maxVersion: UInt16
    public var role: Role
    public var capabilities: Set<String>
    /// Tagged field 0; present when `role` is `.agent`.
    public var agent: AgentIdentity?
    /// Tagged field 1: the tier the agent picked for each kernel hook; present when non-empty.
    public var hooks: [HookStatus]

    public init(minVersion: UInt16 = Handshake.supportedVersions.lowerBound,
                maxVersion: UInt16 = Handshake.supportedVersions.upperBound,
                role: Role, capabilities: Set<String> = [], agent: AgentIdentity? = nil, hooks: [HookStatus] = []) {
        self.minVersion = minVersion
        self.maxVersion = maxVersion
        self.role = role
        self.capabilities = capabilities
        self.agent = agent
        self.hooks = hooks
    }

    public func encode(into w: inout ByteWriter) throws(WireError) {
        try check(minVersion >= 1, "hello.min_version", minVersion)
        try check(maxVersion >= minVersion, "hello.max_version", maxVersion)
        w.u16(minVersion)
        w.u16(maxVersion)
        w.u8(role.rawValue)
        try w.stringSet(capabilities, countLimit: Limits.capabilities, lengthLimit: Limits.label, "hello.capabilities")
        var tagged: [TaggedField] = []
        if let agent {
            var v = ByteWriter()
            try v.string(agent.nodeName, limit: Limits.name, field: "hello.agent.node_name")
            try v.string(agent.agentVersion, limit: Limits.label, field: "hello.agent.agent_version")
            try v.string(agent.kernelRelease, limit: Limits.label, field: "hello.agent.kernel_release")
            tagged.append((0, v.bytes))
        }
        try tagged.appendHooks(hooks, tag: 1, "hello.hooks")
        try w.taggedFields(tagged, "hello.tagged")
    }

    public init(from r: inout ByteReader) throws(WireError) {
        minVersion = try r.u16("hello.min_version")
        maxVersion = try r.u16("hello.max_version")
        try check(minVersion >= 1, "hello.min_version", minVersion)
        try check(maxVersion >= minVersion, "hello.max_version", maxVersion)
        let rawRole = try r.u8("hello.role")
        guard let role = Role(rawValue: rawRole) else { throw .invalidValue(field: "hello.role", value: UInt64(rawRole)) }
        self.role = role
        capabilities = try r.stringSet(countLimit: Limits.capabilities, lengthLimit: Limits.label, "hello.capabilities")
        var agent: AgentIdentity?
        var hooks: [HookStatus] = []
        try r.taggedFields("hello.tagged") { tag, v throws(WireError) in
            switch tag {
            case 0:
                agent = AgentIdentity(nodeName: try v.string(limit: Limits.name, "hello.agent.node_name"),
                                      agentVersion: try v.string(limit: Limits.label, "hello.agent.agent_version"),
                                      kernelRelease: try v.string(limit: Limits.label, "hello.agent.kernel_release"))
            case 1:
                hooks = try v.hooks("hello.hooks")
            default:
                return false
            }
            return true
        }
        self.agent = agent
        self.hooks = hooks
    }
}

/// The accepting side's answer: what was chosen for the rest of the connection.
public struct HelloAccept: WireMessage {
    public static let type = MessageType.helloAccept
    public static let version: UInt16 = 1

    public var version: UInt16
    public var capabilities: Set<String>
    public var serverId: String
    /// Largest payload (header excluded) either side may send from now on.
    public var maxPayloadSize: UInt32
    public var heartbeatIntervalMs: UInt32

    public init(version: UInt16, capabilities: Set<String>, serverId: String,
                maxPayloadSize: UInt32 = Limits.defaultNegotiatedPayload, heartbeatIntervalMs: UInt32 = 5_000) {
        self.version = version
        self.capabilities = capabilities
        self.serverId = serverId
        self.maxPayloadSize = maxPayloadSize
        self.heartbeatIntervalMs = heartbeatIntervalMs
    }

    private static func validate(_ m: HelloAccept) throws(WireError) {
        try check(m.version >= 1, "hello_accept.version", m.version)
        try check((Limits.minNegotiatedPayload...Limits.absoluteMaxPayload).contains(m.maxPayloadSize),
                  "hello_accept.max_payload_size", m.maxPayloadSize)
        try check(Limits.heartbeatIntervalMs.contains(m.heartbeatIntervalMs),
                  "hello_accept.heartbeat_interval_ms", m.heartbeatIntervalMs)
    }

    public func encode(into w: inout ByteWriter) throws(WireError) {
        try Self.validate(self)
        w.u16(version)
        try w.stringSet(capabilities, countLimit: Limits.capabilities, lengthLimit: Limits.label, "hello_accept.capabilities")
        try w.string(serverId, limit: Limits.name, field: "hello_accept.server_id")
        w.u32(maxPayloadSize)
        w.u32(heartbeatIntervalMs)
        w.noTaggedFields()
    }

    public init(from r: inout ByteReader) throws(WireError) {
        version = try r.u16("hello_accept.version")
        capabilities = try r.stringSet(countLimit: Limits.capabilities, lengthLimit: Limits.label, "hello_accept.capabilities")
        serverId = try r.string(limit: Limits.name, "hello_accept.server_id")
        maxPayloadSize = try r.u32("hello_accept.max_payload_size")
        heartbeatIntervalMs = try r.u32("hello_accept.heartbeat_interval_ms")
        try r.taggedFields("hello_accept.tagged")
        try Self.validate(self)
    }
}

/// The negotiation rules of PROTOCOL.md §4 as pure functions, for whichever side accepts connections.
public enum Handshake {
    /// Protocol versions this implementation speaks.
    public static let supportedVersions: ClosedRange<UInt16> = 1...1

    /// The highest version both ranges contain, or nil when they do not overlap.
    public static func chooseVersion(client: ClosedRange<UInt16>, server: ClosedRange<UInt16>) -> UInt16? {
        let low = max(client.lowerBound, server.lowerBound)
        let high = min(client.upperBound, server.upperBound)
        return low <= high ? high : nil
    }

    /// The reply to a Hello: HelloAccept with the chosen version and the intersection of the
    /// capabilities, or an Error (fatal, code 0x0102) when no version is common.
    public static func respond(to hello: Hello, versions: ClosedRange<UInt16> = supportedVersions,
                               capabilities: Set<String>, serverId: String,
                               maxPayloadSize: UInt32 = Limits.defaultNegotiatedPayload,
                               heartbeatIntervalMs: UInt32 = 5_000) -> Message {
        guard hello.minVersion <= hello.maxVersion,
              let v = chooseVersion(client: hello.minVersion...hello.maxVersion, server: versions) else {
            return .error(ErrorMessage(
                code: .unsupportedProtocolVersion,
                message: "no common protocol version: client \(hello.minVersion)-\(hello.maxVersion), server \(versions.lowerBound)-\(versions.upperBound)"))
        }
        return .helloAccept(HelloAccept(version: v, capabilities: hello.capabilities.intersection(capabilities),
                                        serverId: serverId, maxPayloadSize: maxPayloadSize,
                                        heartbeatIntervalMs: heartbeatIntervalMs))
    }
}

/// Capability names registered by PROTOCOL.md §4.3. Unknown names are legal and simply never agreed.
public enum Capability {
    /// The agent applies RuleSet messages.
    public static let rules = "rules"
    /// The agent accepts ProgramBundle messages and hot-swaps programs.
    public static let programs = "programs"
    /// Records may use `RecordFormat.jsonLines`.
    public static let recordsJSON = "records.json"
    /// Records may use `RecordFormat.binaryV1`.
    public static let recordsBinaryV1 = "records.binary-v1"
    /// The agent keeps unacknowledged FlowBatches and resends them, same sequence numbers, after a reconnect.
    public static let spool = "spool"
    /// The server honours Subscribe's `replayLast` and ends the replay with `StreamBatch.replayEnd`.
    public static let streamReplay = "stream.replay"
    /// The server applies Subscribe's `match`, `since_ns` and `until_ns` (tagged fields 1-3).
    public static let streamMatch = "stream.match"
}
