import COpenSSL

/// A PKCS#10 certificate signing request (OpenSSL `X509_REQ`). Agents make one for their own key;
/// the controller reads one from an agent and checks it before signing anything.
public final class CertificateSigningRequest: @unchecked Sendable {
    let req: OpaquePointer

    private init(taking req: OpaquePointer) { self.req = req }

    deinit { X509_REQ_free(req) }

    /// A request for `key` whose subject is `CN=commonName` and nothing else: no other name, no
    /// extension (the signer decides those).
    public static func make(commonName: String, key: PrivateKey) throws -> CertificateSigningRequest {
        OpenSSLErrorQueue.clear()
        guard let req = X509_REQ_new() else { throw OpenSSLErrorQueue.error(.certificateGeneration, "cannot allocate a CSR") }
        let csr = CertificateSigningRequest(taking: req)
        guard X509_REQ_set_version(req, 0) == 1,
              X509_NAME_add_entry_by_txt(X509_REQ_get_subject_name(req), "CN", MBSTRING_UTF8, commonName, -1, -1, 0) == 1,
              X509_REQ_set_pubkey(req, key.pkey) == 1,
              X509_REQ_sign(req, key.pkey, SignatureDigest.for(key.pkey)) > 0 else {
            throw OpenSSLErrorQueue.error(.certificateGeneration, "cannot make a CSR for CN=\(commonName)")
        }
        return csr
    }

    /// Parses exactly one DER request. Says nothing about its validity: see `signatureVerifies`.
    public convenience init(der: [UInt8]) throws {
        OpenSSLErrorQueue.clear()
        guard let req = try DER.decode(der, what: "CSR", d2i_X509_REQ, free: { X509_REQ_free($0) }) else {
            OpenSSLErrorQueue.clear()
            throw TLSError(.configuration, "not a DER PKCS#10 certificate signing request")
        }
        self.init(taking: req)
    }

    public var der: [UInt8] { DER.encode(req, i2d_X509_REQ) }

    /// True when the request is signed by the private half of the public key it carries: the
    /// requester holds that key.
    public var signatureVerifies: Bool {
        OpenSSLErrorQueue.clear()
        defer { OpenSSLErrorQueue.clear() }
        guard let key = X509_REQ_get0_pubkey(req) else { return false }
        return X509_REQ_verify(req, key) == 1
    }

    /// Every subject entry as (short name, value), in order: "CN", "O", ...
    public var subjectEntries: [(field: String, value: String)] { X509Names.entries(X509_REQ_get_subject_name(req)) }

    /// Attributes of the request (an extension request, a challenge password, ...).
    public var attributeCount: Int { Int(X509_REQ_get_attr_count(req)) }

    /// The requested key's algorithm: "EC P-256", "ED25519", "RSA 2048", ...
    public var keyAlgorithm: KeyAlgorithm {
        guard let key = X509_REQ_get0_pubkey(req) else { return .other("no key") }
        return KeyAlgorithm(key)
    }

    /// The algorithms agents may use for their key.
    public enum KeyAlgorithm: Sendable, Equatable, CustomStringConvertible {
        case p256
        case ed25519
        case other(String)

        init(_ key: OpaquePointer) {
            switch EVP_PKEY_get_base_id(key) {
            case EVP_PKEY_ED25519:
                self = .ed25519
            case EVP_PKEY_EC:
                var group = [CChar](repeating: 0, count: 64)
                var length = 0
                _ = EVP_PKEY_get_group_name(key, &group, group.count, &length)
                let name = String(decoding: group.prefix(length).map { UInt8(bitPattern: $0) }, as: UTF8.self)
                self = name == "prime256v1" || name == "P-256" ? .p256 : .other("EC \(name)")
            default:
                self = .other("\(String(cString: EVP_PKEY_get0_type_name(key))) \(EVP_PKEY_get_bits(key))")
            }
        }

        public var description: String {
            switch self {
            case .p256: "EC P-256"
            case .ed25519: "ED25519"
            case .other(let text): text
            }
        }
    }
}

/// The digest to sign with: SHA-256, except for Ed25519, which hashes internally and takes none.
enum SignatureDigest {
    static func `for`(_ key: OpaquePointer) -> OpaquePointer? {
        EVP_PKEY_get_base_id(key) == EVP_PKEY_ED25519 ? nil : EVP_sha256()
    }
}
