import COpenSSL

/// The server's role check, run inside OpenSSL's chain verification so that a client without
/// an accepted role fails the handshake itself (the client gets an alert) rather than being
/// dropped afterwards. The accepted roles travel as a bit mask in the SSL_CTX's ex_data: a plain
/// integer, so there is no object lifetime to manage from a C callback.
enum PeerRoleCheck {
    /// The ex_data slot of SSL_CTX holding the mask; made once per process.
    static let exDataIndex: Int32 = netobs_SSL_CTX_get_ex_new_index()

    static func install(on ctx: OpaquePointer, accepted roles: Set<NetobsRole>) {
        SSL_CTX_set_ex_data(ctx, exDataIndex, UnsafeMutableRawPointer(bitPattern: NetobsRole.mask(roles)))
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, verifyCallback)
    }

    /// The message for a handshake that this check failed.
    static func failureMessage(accepted roles: Set<NetobsRole>) -> String {
        let names = roles.map { "OU=\($0.organizationalUnit)" }.sorted().joined(separator: ", ")
        return "client certificate carries no accepted netobs role (expected one of \(names))"
    }

    /// Runs for each certificate of the chain; only the leaf (depth 0) carries a role, and
    /// chain errors found by OpenSSL (preverify 0) are left as they are.
    private static let verifyCallback: @convention(c) (Int32, OpaquePointer?) -> Int32 = { preverify, store in
        guard preverify == 1, let store else { return preverify }
        guard X509_STORE_CTX_get_error_depth(store) == 0 else { return 1 }
        guard let leaf = X509_STORE_CTX_get_current_cert(store),
              let ssl = X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx()),
              let ctx = SSL_get_SSL_CTX(OpaquePointer(ssl)) else { return 0 }
        let mask = Int(bitPattern: SSL_CTX_get_ex_data(ctx, exDataIndex))
        let role = NetobsRole.from(organizationalUnits: X509Names.values(X509_get_subject_name(leaf),
                                                                          nid: NID_organizationalUnitName))
        if let role, mask & role.maskBit != 0 { return 1 }
        X509_STORE_CTX_set_error(store, X509_V_ERR_APPLICATION_VERIFICATION)
        return 0
    }
}
