/// A message struct that knows its type number, its version, and its payload encoding.
public protocol WireMessage: Sendable, Equatable {
    static var type: MessageType { get }
    /// The message version this struct encodes and decodes (all 1 in protocol version 1).
    static var version: UInt16 { get }
    func encode(into w: inout ByteWriter) throws(WireError)
    init(from r: inout ByteReader) throws(WireError)
}

/// Every message of protocol version 1 (the bootstrap pair travels on its own listener, §5.1).
public enum Message: Sendable, Equatable {
    case hello(Hello)
    case helloAccept(HelloAccept)
    case heartbeat(Heartbeat)
    case error(ErrorMessage)
    case ruleSet(RuleSet)
    case ruleSetAck(RuleSetAck)
    case programBundle(ProgramBundle)
    case programStatus(ProgramStatus)
    case flowBatch(FlowBatch)
    case ack(Ack)
    case subscribe(Subscribe)
    case streamBatch(StreamBatch)
    case agentListRequest(AgentListRequest)
    case agentList(AgentList)
    case bootstrapRequest(BootstrapRequest)
    case bootstrapResponse(BootstrapResponse)

    private var body: any WireMessage {
        switch self {
        case .hello(let m): m
        case .helloAccept(let m): m
        case .heartbeat(let m): m
        case .error(let m): m
        case .ruleSet(let m): m
        case .ruleSetAck(let m): m
        case .programBundle(let m): m
        case .programStatus(let m): m
        case .flowBatch(let m): m
        case .ack(let m): m
        case .subscribe(let m): m
        case .streamBatch(let m): m
        case .agentListRequest(let m): m
        case .agentList(let m): m
        case .bootstrapRequest(let m): m
        case .bootstrapResponse(let m): m
        }
    }

    public var type: MessageType { Swift.type(of: body).type }
    public var version: UInt16 { Swift.type(of: body).version }

    public func encodePayload() throws(WireError) -> [UInt8] {
        var w = ByteWriter()
        try body.encode(into: &w)
        return w.bytes
    }

    /// Decodes a payload. Unknown types and versions get their own errors so the receiver can answer
    /// with an Error message (codes 0x0200/0x0201) and keep the connection.
    public static func decode(type: MessageType, version: UInt16, payload: ArraySlice<UInt8>)
        throws(WireError) -> Message
    {
        func body<M: WireMessage>(_: M.Type) throws(WireError) -> M {
            guard version == M.version else { throw .unsupportedMessageVersion(type, version: version) }
            var r = ByteReader(payload)
            let m = try M(from: &r)
            try r.expectEnd("payload")
            return m
        }
        switch type {
        case .hello: return .hello(try body(Hello.self))
        case .helloAccept: return .helloAccept(try body(HelloAccept.self))
        case .heartbeat: return .heartbeat(try body(Heartbeat.self))
        case .error: return .error(try body(ErrorMessage.self))
        case .ruleSet: return .ruleSet(try body(RuleSet.self))
        case .ruleSetAck: return .ruleSetAck(try body(RuleSetAck.self))
        case .programBundle: return .programBundle(try body(ProgramBundle.self))
        case .programStatus: return .programStatus(try body(ProgramStatus.self))
        case .flowBatch: return .flowBatch(try body(FlowBatch.self))
        case .ack: return .ack(try body(Ack.self))
        case .subscribe: return .subscribe(try body(Subscribe.self))
        case .streamBatch: return .streamBatch(try body(StreamBatch.self))
        case .agentListRequest: return .agentListRequest(try body(AgentListRequest.self))
        case .agentList: return .agentList(try body(AgentList.self))
        case .bootstrapRequest: return .bootstrapRequest(try body(BootstrapRequest.self))
        case .bootstrapResponse: return .bootstrapResponse(try body(BootstrapResponse.self))
        default: throw .unknownMessageType(type)
        }
    }
}

extension Frame {
    /// Wraps an encoded message. Throws if a field breaks its limit.
    public init(_ message: Message, correlationId: UInt64 = 0, flags: FrameFlags = []) throws(WireError) {
        self.init(type: message.type, version: message.version, flags: flags, correlationId: correlationId,
                  payload: try message.encodePayload())
    }

    public func message() throws(WireError) -> Message {
        try Message.decode(type: type, version: version, payload: payload[...])
    }
}

/// Encodes a message straight to frame bytes, refusing a payload above `maxPayload` (pass the
/// negotiated size) so a sender never emits a frame its peer must reject.
public func encode(_ message: Message, correlationId: UInt64 = 0, flags: FrameFlags = [],
                   maxPayload: UInt32 = Limits.absoluteMaxPayload) throws(WireError) -> [UInt8] {
    let frame = try Frame(message, correlationId: correlationId, flags: flags)
    let limit = min(maxPayload, Limits.absoluteMaxPayload)
    guard frame.payload.count <= Int(limit) else {
        throw .frameTooLarge(declared: UInt64(frame.payload.count), limit: limit)
    }
    return encode(frame)
}
