/// A message type number. A struct rather than an enum so that unknown types survive decoding and
/// can be named in an Error reply.
public struct MessageType: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }

    public static let hello = MessageType(rawValue: 0x0001)
    public static let helloAccept = MessageType(rawValue: 0x0002)
    public static let heartbeat = MessageType(rawValue: 0x0003)
    public static let error = MessageType(rawValue: 0x0004)
    public static let ruleSet = MessageType(rawValue: 0x0010)
    public static let ruleSetAck = MessageType(rawValue: 0x0011)
    public static let programBundle = MessageType(rawValue: 0x0020)
    public static let programStatus = MessageType(rawValue: 0x0021)
    public static let flowBatch = MessageType(rawValue: 0x0030)
    public static let ack = MessageType(rawValue: 0x0031)
    public static let subscribe = MessageType(rawValue: 0x0040)
    public static let streamBatch = MessageType(rawValue: 0x0041)
    public static let agentListRequest = MessageType(rawValue: 0x0050)
    public static let agentList = MessageType(rawValue: 0x0051)
    /// Only on the bootstrap listener (PROTOCOL.md §5.1).
    public static let bootstrapRequest = MessageType(rawValue: 0x0060)
    public static let bootstrapResponse = MessageType(rawValue: 0x0061)

    /// 0x8000-0xFFFF are for experiments and are never assigned by the spec.
    public var isExperimental: Bool { rawValue >= 0x8000 }

    public var description: String {
        let hex = String(rawValue, radix: 16)
        return "0x" + String(repeating: "0", count: 4 - hex.count) + hex
    }
}

/// Header flag bits. Unknown bits are carried through untouched and otherwise ignored.
public struct FrameFlags: OptionSet, Hashable, Sendable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    /// The frame answers the peer's request with the same correlation id. Both sides number their
    /// own requests independently, so this bit says whose number space the id belongs to.
    public static let reply = FrameFlags(rawValue: 0x01)
}

/// The fixed 20-byte, big-endian frame header (proto-spec/PROTOCOL.md, "Frame header").
public struct FrameHeader: Equatable, Sendable {
    public static let size = 20
    public static let magic: UInt16 = 0x4E4F  // "NO"
    public static let formatVersion: UInt8 = 1

    public var type: MessageType
    public var version: UInt16
    public var flags: FrameFlags
    public var correlationId: UInt64
    public var payloadLength: UInt32

    public init(type: MessageType, version: UInt16, flags: FrameFlags, correlationId: UInt64, payloadLength: UInt32) {
        self.type = type
        self.version = version
        self.flags = flags
        self.correlationId = correlationId
        self.payloadLength = payloadLength
    }

    /// Checks as much of a header as `bytes` holds, so garbage is refused after 2 bytes rather than
    /// 20. Returns nil while fewer than `size` bytes are present. The declared length is checked
    /// against `maxPayload` here, before anyone allocates room for the payload.
    public static func parse(_ bytes: ArraySlice<UInt8>, maxPayload: UInt32) throws(WireError) -> FrameHeader? {
        var r = ByteReader(bytes)
        guard bytes.count >= 2 else { return nil }
        let m = try r.u16("frame.magic")
        guard m == magic else { throw .badMagic(m) }
        guard bytes.count >= 3 else { return nil }
        let v = try r.u8("frame.format_version")
        guard v == formatVersion else { throw .unsupportedFrameVersion(v) }
        guard bytes.count >= size else { return nil }
        let flags = FrameFlags(rawValue: try r.u8("frame.flags"))
        let type = MessageType(rawValue: try r.u16("frame.type"))
        let version = try r.u16("frame.version")
        let correlationId = try r.u64("frame.correlation_id")
        let length = try r.u32("frame.payload_length")
        let limit = min(maxPayload, Limits.absoluteMaxPayload)
        guard length <= limit else { throw .frameTooLarge(declared: UInt64(length), limit: limit) }
        return FrameHeader(type: type, version: version, flags: flags, correlationId: correlationId,
                           payloadLength: length)
    }

    public func write(into w: inout ByteWriter) {
        w.u16(Self.magic)
        w.u8(Self.formatVersion)
        w.u8(flags.rawValue)
        w.u16(type.rawValue)
        w.u16(version)
        w.u64(correlationId)
        w.u32(payloadLength)
    }
}

/// One frame: a header and its still-encoded payload. Decoding the payload into a `Message` is a
/// separate step so that an unknown type or version is an answerable error, not a broken stream.
public struct Frame: Equatable, Sendable {
    public var type: MessageType
    public var version: UInt16
    public var flags: FrameFlags
    public var correlationId: UInt64
    public var payload: [UInt8]

    public init(type: MessageType, version: UInt16, flags: FrameFlags = [], correlationId: UInt64 = 0,
                payload: [UInt8]) {
        self.type = type
        self.version = version
        self.flags = flags
        self.correlationId = correlationId
        self.payload = payload
    }

    public var header: FrameHeader {
        precondition(payload.count <= Int(UInt32.max), "payload does not fit a u32 length")
        return FrameHeader(type: type, version: version, flags: flags, correlationId: correlationId,
                           payloadLength: UInt32(payload.count))
    }

    public var encodedSize: Int { FrameHeader.size + payload.count }
}

/// Serializes a frame: header then payload.
public func encode(_ frame: Frame) -> [UInt8] {
    var w = ByteWriter(capacity: frame.encodedSize)
    frame.header.write(into: &w)
    w.raw(frame.payload)
    return w.bytes
}
