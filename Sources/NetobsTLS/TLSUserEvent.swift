/// Inbound user events fired by `TLSHandler`.
public enum TLSUserEvent: Sendable, Equatable {
    /// The handshake finished and the peer's certificate passed every check. Fired before any
    /// plaintext is read; buffered writes go out right after it.
    case handshakeCompleted(PeerIdentity)
    /// The handshake finished on a server that asks for no client certificate
    /// (`TLSConfiguration.serverWithoutClientCertificates`): the client is anonymous to TLS.
    case handshakeCompletedWithoutPeerCertificate
}
