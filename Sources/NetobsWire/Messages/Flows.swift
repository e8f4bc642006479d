/// How the records of a FlowBatch or StreamBatch are encoded. Opaque to the codec; unknown values
/// are carried so that a receiver can answer with an Error rather than guess.
public struct RecordFormat: RawRepresentable, Sendable, Hashable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    /// One JSON object per record, UTF-8, no trailing newline (the `--standalone` line format).
    public static let jsonLines = RecordFormat(rawValue: 1)
    /// The fixed binary record layout of bpf/ (CNetobsLayout), version 1.
    public static let binaryV1 = RecordFormat(rawValue: 2)
}

/// Flow records from an agent. Sequence numbers let the controller acknowledge, and let the agent
/// resend from its spool after a reconnect without duplicates.
public struct FlowBatch: WireMessage {
    public static let type = MessageType.flowBatch
    public static let version: UInt16 = 1

    public var agentId: String
    /// Starts at 1 and increases by one per batch for the life of the agent's spool.
    public var sequence: UInt64
    public var format: RecordFormat
    public var records: [[UInt8]]

    public init(agentId: String, sequence: UInt64, format: RecordFormat = .jsonLines, records: [[UInt8]]) {
        self.agentId = agentId
        self.sequence = sequence
        self.format = format
        self.records = records
    }

    public func encode(into w: inout ByteWriter) throws(WireError) {
        try w.string(agentId, limit: Limits.name, field: "flow_batch.agent_id")
        w.u64(sequence)
        w.u8(format.rawValue)
        try w.records(records, "flow_batch.records")
        w.noTaggedFields()
    }

    public init(from r: inout ByteReader) throws(WireError) {
        agentId = try r.string(limit: Limits.name, "flow_batch.agent_id")
        sequence = try r.u64("flow_batch.sequence")
        format = RecordFormat(rawValue: try r.u8("flow_batch.format"))
        records = try r.records("flow_batch.records")
        try r.taggedFields("flow_batch.tagged")
    }
}

/// The controller's acknowledgement of FlowBatches: after it, the agent may drop them from its spool.
public struct Ack: WireMessage {
    public static let type = MessageType.ack
    public static let version: UInt16 = 1

    public var sequence: UInt64
    /// True: every batch up to and including `sequence` is acknowledged. False: only that one.
    public var cumulative: Bool

    public init(sequence: UInt64, cumulative: Bool = true) {
        self.sequence = sequence
        self.cumulative = cumulative
    }

    public func encode(into w: inout ByteWriter) throws(WireError) {
        w.u64(sequence)
        w.bool(cumulative)
        w.noTaggedFields()
    }

    public init(from r: inout ByteReader) throws(WireError) {
        sequence = try r.u64("ack.sequence")
        cumulative = try r.bool("ack.cumulative")
        try r.taggedFields("ack.tagged")
    }
}
