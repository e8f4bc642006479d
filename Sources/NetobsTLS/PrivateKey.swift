import COpenSSL

/// A private key (OpenSSL `EVP_PKEY`). Its `description` never shows key material; the PEM is
/// only produced for writing a key file.
public final class PrivateKey: @unchecked Sendable, CustomStringConvertible {
    let pkey: OpaquePointer

    init(taking pkey: OpaquePointer) { self.pkey = pkey }

    deinit { EVP_PKEY_free(pkey) }

    /// A new EC P-256 key: small, fast, and accepted by every TLS 1.3 stack.
    public static func generateP256() throws -> PrivateKey {
        OpenSSLErrorQueue.clear()
        guard let pkey = netobs_generate_ec_p256() else {
            throw OpenSSLErrorQueue.error(.certificateGeneration, "cannot generate an EC P-256 key")
        }
        return PrivateKey(taking: pkey)
    }

    /// Reads an unencrypted PEM key; `source` names it in errors (the bytes never are).
    public convenience init(pem: [UInt8], source: String = "PEM") throws {
        OpenSSLErrorQueue.clear()
        let bio = try MemoryBIO(reading: pem)
        // An empty passphrase callback: encrypted keys fail instead of prompting on a tty.
        guard let pkey = PEM_read_bio_PrivateKey(bio.pointer, nil, { _, _, _, _ in 0 }, nil) else {
            throw OpenSSLErrorQueue.error(.configuration, "cannot read private key \(source)")
        }
        self.init(taking: pkey)
    }

    /// Unencrypted PKCS#8 PEM, for key files only.
    public var pkcs8PEM: [UInt8] {
        let bio = MemoryBIO()
        PEM_write_bio_PrivateKey(bio.pointer, pkey, nil, nil, 0, nil, nil)
        return bio.contents()
    }

    public var description: String { "PrivateKey(\(String(cString: EVP_PKEY_get0_type_name(pkey))))" }
}
