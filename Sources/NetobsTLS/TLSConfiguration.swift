/// What a TLS endpoint needs: whom to trust, who it is, and which side it plays.
///
/// There are no knobs to weaken it: TLS 1.3 only, the peer is always verified against
/// `trustRoots` (a server requires a client certificate), clients always check the server's
/// name, and a server only accepts client certificates carrying one of `acceptedClientRoles`.
public struct TLSConfiguration: Sendable {
    public enum Role: Sendable, Equatable { case server, client }

    public var role: Role
    /// The CA bundle that peers' chains must lead to.
    public var trustRoots: PEMSource
    /// Own certificate first, then any intermediates.
    public var certificateChain: PEMSource
    /// Own private key (PKCS#8 or traditional PEM, unencrypted).
    public var privateKey: PEMSource
    /// Server only: client certificates must carry one of these roles (see `NetobsRole`).
    public var acceptedClientRoles: Set<NetobsRole>
    /// Clients only: false when the client authenticates otherwise (a bearer token) and sends
    /// no certificate; `certificateChain` and `privateKey` are then unused.
    public var presentsCertificate = true
    /// Servers only: false for a listener where clients authenticate otherwise (an agent's
    /// bootstrap token) and present no certificate; `trustRoots` and `acceptedClientRoles` are
    /// then unused. The client still authenticates the server as always.
    public var requestsClientCertificate = true

    public static func server(trustRoots: PEMSource, certificateChain: PEMSource, privateKey: PEMSource,
                              acceptedClientRoles: Set<NetobsRole> = NetobsRole.clientRoles) -> TLSConfiguration {
        TLSConfiguration(role: .server, trustRoots: trustRoots, certificateChain: certificateChain,
                         privateKey: privateKey, acceptedClientRoles: acceptedClientRoles)
    }

    public static func client(trustRoots: PEMSource, certificateChain: PEMSource,
                              privateKey: PEMSource) -> TLSConfiguration {
        TLSConfiguration(role: .client, trustRoots: trustRoots, certificateChain: certificateChain,
                         privateKey: privateKey, acceptedClientRoles: [])
    }
}
