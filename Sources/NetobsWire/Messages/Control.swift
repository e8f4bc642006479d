/// A named counter carried by Heartbeat (e.g. "records_sent", "ringbuf_drops").
public struct Counter: Sendable, Hashable {
    public var name: String
    public var value: UInt64

    public init(_ name: String, _ value: UInt64) {
        self.name = name
        self.value = value
    }
}

/// Liveness plus a few cheap counters. Sent by either side when it has sent nothing for a heartbeat
/// interval; a peer silent for three intervals is gone.
public struct Heartbeat: WireMessage {
    public static let type = MessageType.heartbeat
    public static let version: UInt16 = 1

    /// Sender's wall clock, unix nanoseconds.
    public var timestampNs: UInt64
    public var counters: [Counter]

    public init(timestampNs: UInt64, counters: [Counter] = []) {
        self.timestampNs = timestampNs
        self.counters = counters
    }

    public func encode(into w: inout ByteWriter) throws(WireError) {
        w.u64(timestampNs)
        try w.list(counters, limit: Limits.counters, "heartbeat.counters") { c, w throws(WireError) in
            try w.string(c.name, limit: Limits.label, field: "heartbeat.counters.name")
            w.u64(c.value)
        }
        w.noTaggedFields()
    }

    public init(from r: inout ByteReader) throws(WireError) {
        timestampNs = try r.u64("heartbeat.timestamp_ns")
        counters = try r.list(limit: Limits.counters, minElementSize: 9, "heartbeat.counters") { r throws(WireError) in
            Counter(try r.string(limit: Limits.label, "heartbeat.counters.name"), try r.u64("heartbeat.counters.value"))
        }
        try r.taggedFields("heartbeat.tagged")
    }
}

/// Error codes (PROTOCOL.md §7). The high byte is the class: 0x01 closes the connection, 0x02 fails
/// one request and the connection carries on. Unknown codes keep their class.
public struct ErrorCode: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
    public let rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }

    // Fatal: the sender closes the connection after sending.
    public static let malformedFrame = ErrorCode(rawValue: 0x0100)
    public static let frameTooLarge = ErrorCode(rawValue: 0x0101)
    public static let unsupportedProtocolVersion = ErrorCode(rawValue: 0x0102)
    public static let protocolViolation = ErrorCode(rawValue: 0x0103)
    public static let unauthorized = ErrorCode(rawValue: 0x0104)
    public static let heartbeatTimeout = ErrorCode(rawValue: 0x0105)
    public static let shuttingDown = ErrorCode(rawValue: 0x0106)

    // Request-level.
    public static let unknownMessageType = ErrorCode(rawValue: 0x0200)
    public static let unsupportedMessageVersion = ErrorCode(rawValue: 0x0201)
    public static let malformedPayload = ErrorCode(rawValue: 0x0202)
    public static let limitExceeded = ErrorCode(rawValue: 0x0203)
    public static let badSignature = ErrorCode(rawValue: 0x0204)
    public static let digestMismatch = ErrorCode(rawValue: 0x0205)
    public static let rejected = ErrorCode(rawValue: 0x0206)
    public static let overloaded = ErrorCode(rawValue: 0x0207)
    public static let `internal` = ErrorCode(rawValue: 0x0208)

    public var isFatal: Bool { rawValue >> 8 == 0x01 }

    public var description: String {
        let hex = String(rawValue, radix: 16)
        return "0x" + String(repeating: "0", count: 4 - hex.count) + hex
    }
}

/// An error report. It replies to the failing request when that request can be replied to; the
/// payload also names the failing frame's correlation id, which matters when the failing frame was
/// itself a reply (replies are never replied to).
public struct ErrorMessage: WireMessage {
    public static let type = MessageType.error
    public static let version: UInt16 = 1

    public var code: ErrorCode
    public var message: String
    /// Tagged field 0 (u64): correlation id of the frame that failed.
    public var failedCorrelationId: UInt64?

    public init(code: ErrorCode, message: String, failedCorrelationId: UInt64? = nil) {
        self.code = code
        self.message = message
        self.failedCorrelationId = failedCorrelationId
    }

    /// The report for a decoding failure of a frame we received.
    public init(_ error: WireError, failedCorrelationId: UInt64? = nil) {
        self.init(code: error.errorCode, message: Limits.clip(error.description, toUTF8Bytes: Limits.text),
                  failedCorrelationId: failedCorrelationId)
    }

    public func encode(into w: inout ByteWriter) throws(WireError) {
        w.u16(code.rawValue)
        try w.string(message, limit: Limits.text, field: "error.message")
        var tagged: [TaggedField] = []
        if let id = failedCorrelationId {
            var v = ByteWriter(capacity: 8)
            v.u64(id)
            tagged.append((0, v.bytes))
        }
        try w.taggedFields(tagged, "error.tagged")
    }

    public init(from r: inout ByteReader) throws(WireError) {
        code = ErrorCode(rawValue: try r.u16("error.code"))
        message = try r.string(limit: Limits.text, "error.message")
        var id: UInt64?
        try r.taggedFields("error.tagged") { tag, v throws(WireError) in
            guard tag == 0 else { return false }
            id = try v.u64("error.failed_correlation_id")
            return true
        }
        failedCorrelationId = id
    }
}
