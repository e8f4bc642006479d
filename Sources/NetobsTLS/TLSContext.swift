import COpenSSL

/// One OpenSSL SSL_CTX, made once per configuration and shared by all connections (an SSL_CTX
/// is safe to share once set up; it is never changed afterwards). Making it reads and checks all
/// files, so a bad setup fails at start with a clear error, not at the first connection.
public final class TLSContext: @unchecked Sendable {
    let ctx: OpaquePointer
    public let role: TLSConfiguration.Role
    public let acceptedClientRoles: Set<NetobsRole>
    /// Our own certificate (the leaf of the chain); nil for a client presenting none.
    public let certificate: Certificate?
    /// False only for a server that asks clients for no certificate
    /// (`serverWithoutClientCertificates`): its handshakes complete with no peer identity.
    public let verifiesPeer: Bool

    public init(configuration: TLSConfiguration) throws {
        let isServer = configuration.role == .server
        let verifiesPeer = !isServer || configuration.requestsClientCertificate
        if isServer && verifiesPeer && configuration.acceptedClientRoles.isEmpty {
            throw TLSError(.configuration, "a server must accept at least one client role")
        }
        OpenSSLErrorQueue.clear()
        guard let ctx = SSL_CTX_new(isServer ? TLS_server_method() : TLS_client_method()) else {
            throw OpenSSLErrorQueue.error(.configuration, "cannot create an OpenSSL context")
        }
        self.ctx = ctx
        role = configuration.role
        acceptedClientRoles = verifiesPeer ? configuration.acceptedClientRoles : []
        self.verifiesPeer = verifiesPeer

        // TLS 1.3 only: no downgrade to anything older.
        guard netobs_SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION) == 1,
              netobs_SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION) == 1 else {
            SSL_CTX_free(ctx)
            throw OpenSSLErrorQueue.error(.configuration, "cannot restrict OpenSSL to TLS 1.3")
        }
        // Long-lived connections: no resumption, so no tickets and no session cache to leak.
        SSL_CTX_set_num_tickets(ctx, 0)
        _ = netobs_SSL_CTX_set_session_cache_mode(ctx, Int(SSL_SESS_CACHE_OFF))
        SSL_CTX_set_verify_depth(ctx, 8)
        // Send exactly the configured chain; OpenSSL would otherwise add certificates (the
        // root included) that it finds in the trust store.
        _ = netobs_SSL_CTX_set_mode(ctx, Int(SSL_MODE_NO_AUTO_CHAIN))

        // Until `certificate` is set a throw skips deinit, so the context is freed here.
        do {
            if verifiesPeer { try TLSContext.loadTrust(ctx, configuration.trustRoots, advertise: isServer) }
            certificate = isServer || configuration.presentsCertificate
                ? try TLSContext.loadIdentity(ctx, configuration) : nil
        } catch {
            SSL_CTX_free(ctx)
            throw error
        }

        if isServer && !verifiesPeer {
            SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nil)  // no CertificateRequest is sent
        } else if isServer {
            PeerRoleCheck.install(on: ctx, accepted: configuration.acceptedClientRoles)
        } else {
            SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nil)
        }
    }

    deinit { SSL_CTX_free(ctx) }

    /// Adds the CA bundle to the trust store (and, on servers, to the CA names sent in the
    /// CertificateRequest so that clients pick the right certificate).
    private static func loadTrust(_ ctx: OpaquePointer, _ source: PEMSource, advertise: Bool) throws {
        let roots = try Certificate.all(fromPEM: source.load("CA bundle"), source: "CA bundle \(source)")
        guard !roots.isEmpty else { throw TLSError(.configuration, "CA bundle \(source) contains no certificate") }
        let store = SSL_CTX_get_cert_store(ctx)
        for root in roots {
            guard X509_STORE_add_cert(store, root.x509) == 1 else {
                throw OpenSSLErrorQueue.error(.configuration, "cannot use CA bundle \(source)")
            }
            if advertise { SSL_CTX_add_client_CA(ctx, root.x509) }
        }
    }

    /// Loads own chain and key and checks that they belong together.
    private static func loadIdentity(_ ctx: OpaquePointer, _ configuration: TLSConfiguration) throws -> Certificate {
        let chainSource = configuration.certificateChain
        let chain = try Certificate.all(fromPEM: chainSource.load("certificate"), source: "certificate \(chainSource)")
        guard let leaf = chain.first else {
            throw TLSError(.configuration, "certificate file \(chainSource) contains no certificate")
        }
        let keySource = configuration.privateKey
        let key = try PrivateKey(pem: keySource.load("key"), source: keySource.description)
        OpenSSLErrorQueue.clear()
        guard SSL_CTX_use_certificate(ctx, leaf.x509) == 1 else {
            throw OpenSSLErrorQueue.error(.configuration, "cannot use certificate \(chainSource)")
        }
        for intermediate in chain.dropFirst() {
            guard netobs_SSL_CTX_add1_chain_cert(ctx, intermediate.x509) == 1 else {
                throw OpenSSLErrorQueue.error(.configuration, "cannot use the chain in \(chainSource)")
            }
        }
        guard SSL_CTX_use_PrivateKey(ctx, key.pkey) == 1, SSL_CTX_check_private_key(ctx) == 1 else {
            OpenSSLErrorQueue.clear()
            throw TLSError(.configuration, "certificate \(chainSource) does not match key \(keySource)")
        }
        return leaf
    }
}
