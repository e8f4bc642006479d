/// Every failure of the TLS layer. The message is for people (logs, CLI); `kind` is for code.
/// Messages carry file paths, certificate names and OpenSSL's error text, never key material.
public struct TLSError: Error, CustomStringConvertible, Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        /// Files, PEM contents, certificate/key mismatch, bad settings.
        case configuration
        /// The handshake failed here or the peer rejected it (alert), including chain, name,
        /// expiry, protocol-version and role checks.
        case handshake
        /// A TLS protocol error after the handshake (bad record, alert from the peer).
        case `protocol`
        /// The connection closed before the handshake finished.
        case closedDuringHandshake
        /// The handshake did not finish in time.
        case handshakeTimeout
        /// The transport closed without the peer's close_notify: data may be truncated.
        case uncleanShutdown
        /// Making keys or certificates failed.
        case certificateGeneration
    }

    public let kind: Kind
    public let message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { "TLS: \(message)" }
}
