/// A string that never shows itself: `description`, `debugDescription` and reflection print a
/// placeholder, so a bootstrap token cannot reach a log through string interpolation of a message.
public struct RedactedString: Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    public let value: String

    public init(_ value: String) { self.value = value }

    public var description: String { "<redacted \(value.utf8.count) bytes>" }
    public var debugDescription: String { description }
    public var customMirror: Mirror { Mirror(self, children: [:]) }
}

/// An agent without a certificate asks the controller's bootstrap listener for one
/// (PROTOCOL.md §5.1, §6.15): a token proving it may, and a CSR for its own key naming its node.
public struct BootstrapRequest: WireMessage {
    public static let type = MessageType.bootstrapRequest
    public static let version: UInt16 = 1

    public var nodeName: String
    /// `ID.SECRET`; redacted in every printed form.
    public var token: RedactedString
    /// PKCS#10, DER, subject `CN=<nodeName>`.
    public var csr: [UInt8]

    public init(nodeName: String, token: String, csr: [UInt8]) {
        self.nodeName = nodeName
        self.token = RedactedString(token)
        self.csr = csr
    }

    public func encode(into w: inout ByteWriter) throws(WireError) {
        try w.string(nodeName, limit: Limits.name, field: "bootstrap_request.node_name")
        try w.string(token.value, limit: Limits.label, field: "bootstrap_request.token")
        try w.bytes(csr, limit: Limits.certificateRequest, field: "bootstrap_request.csr")
        w.noTaggedFields()
    }

    public init(from r: inout ByteReader) throws(WireError) {
        nodeName = try r.string(limit: Limits.name, "bootstrap_request.node_name")
        token = RedactedString(try r.string(limit: Limits.label, "bootstrap_request.token"))
        csr = try r.bytes(limit: Limits.certificateRequest, "bootstrap_request.csr")
        try r.taggedFields("bootstrap_request.tagged")
    }
}

/// The controller's answer to a granted BootstrapRequest: the agent certificate it signed.
public struct BootstrapResponse: WireMessage {
    public static let type = MessageType.bootstrapResponse
    public static let version: UInt16 = 1

    /// X.509, DER: `CN=<node>`, `OU=netobs-agent`, clientAuth, for the CSR's key.
    public var certificate: [UInt8]

    public init(certificate: [UInt8]) { self.certificate = certificate }

    public func encode(into w: inout ByteWriter) throws(WireError) {
        try w.bytes(certificate, limit: Limits.certificate, field: "bootstrap_response.certificate")
        w.noTaggedFields()
    }

    public init(from r: inout ByteReader) throws(WireError) {
        certificate = try r.bytes(limit: Limits.certificate, "bootstrap_response.certificate")
        try r.taggedFields("bootstrap_response.tagged")
    }
}
