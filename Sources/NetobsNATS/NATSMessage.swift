/// A message the server delivered on a subscription (MSG, or HMSG with headers).
public struct NATSMessage: Sendable, Equatable {
    public var subject: String
    public var sid: UInt64
    public var replyTo: String?
    /// Header lines in their order; `status` is the header block's status code (e.g. 503: no
    /// responders), nil without one.
    public var headers: [(name: String, value: String)]
    public var status: Int?
    public var payload: [UInt8]

    public init(subject: String, sid: UInt64, replyTo: String? = nil, headers: [(name: String, value: String)] = [],
                status: Int? = nil, payload: [UInt8]) {
        self.subject = subject
        self.sid = sid
        self.replyTo = replyTo
        self.headers = headers
        self.status = status
        self.payload = payload
    }

    public func header(_ name: String) -> String? {
        headers.first { $0.name.lowercased() == name.lowercased() }?.value
    }

    public static func == (a: NATSMessage, b: NATSMessage) -> Bool {
        a.subject == b.subject && a.sid == b.sid && a.replyTo == b.replyTo && a.status == b.status
            && a.payload == b.payload && a.headers.map { [$0.name, $0.value] } == b.headers.map { [$0.name, $0.value] }
    }
}

/// What the server sends (the NATS client protocol's server operations).
public enum NATSServerOp: Sendable, Equatable {
    /// INFO's JSON object, as text.
    case info(String)
    case message(NATSMessage)
    case ping, pong, ok
    case error(String)
}

public struct NATSProtocolError: Error, CustomStringConvertible, Equatable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
