import COpenSSL

/// What a certificate is for; sets basicConstraints, keyUsage and extendedKeyUsage so that
/// OpenSSL's purpose checks refuse a client certificate used as a server's and vice versa.
public enum CertificateUsage: Sendable {
    case certificateAuthority
    case server
    case client
}

/// The fields of a certificate to issue.
public struct CertificateRequest: Sendable {
    public var commonName: String
    public var organization: String? = "netobs"
    /// The netobs role goes here (see `NetobsRole`); any other OU is allowed too.
    public var organizationalUnits: [String] = []
    public var dnsNames: [String] = []
    public var ipAddresses: [String] = []
    public var uris: [String] = []
    public var usage: CertificateUsage
    /// Validity as offsets from now in seconds; negative values make a not-yet-valid or an
    /// already expired certificate (for tests).
    public var notBefore: Int = -300
    public var notAfter: Int = 365 * 86_400

    public init(commonName: String, usage: CertificateUsage, role: NetobsRole? = nil,
                dnsNames: [String] = [], ipAddresses: [String] = [], validDays: Int = 365) {
        self.commonName = commonName
        self.usage = usage
        self.organizationalUnits = role.map { [$0.organizationalUnit] } ?? []
        self.dnsNames = dnsNames
        self.ipAddresses = ipAddresses
        self.notAfter = validDays * 86_400
    }
}

/// Makes keys and X.509 certificates with libcrypto (EC P-256, SHA-256 signatures, random
/// 128-bit serials). Used by `netobs certs init` and by tests.
public enum CertificateFactory {
    /// A self-signed certificate, from a new key (for CAs).
    public static func selfSigned(_ request: CertificateRequest) throws -> (Certificate, PrivateKey) {
        let key = try PrivateKey.generateP256()
        return (try issue(request, publicKeyOf: key, issuer: nil, issuerKey: key), key)
    }

    /// A certificate for a new key, signed by `issuer`.
    public static func issue(_ request: CertificateRequest,
                             by issuer: (certificate: Certificate, key: PrivateKey)) throws -> (Certificate, PrivateKey) {
        let key = try PrivateKey.generateP256()
        return (try issue(request, publicKeyOf: key, issuer: issuer.certificate, issuerKey: issuer.key), key)
    }

    public static func issue(_ request: CertificateRequest, publicKeyOf subjectKey: PrivateKey,
                             issuer: Certificate?, issuerKey: PrivateKey) throws -> Certificate {
        try issue(request, subjectKey: subjectKey.pkey, issuer: issuer, issuerKey: issuerKey)
    }

    /// A certificate for the key of `csr`, signed by `issuer`. Only the key is taken from the
    /// request: names, usage and validity all come from `request`, so nothing the requester
    /// asked for (extensions, other names) reaches the certificate.
    public static func issue(_ request: CertificateRequest, keyOf csr: CertificateSigningRequest,
                             by issuer: (certificate: Certificate, key: PrivateKey)) throws -> Certificate {
        guard let key = X509_REQ_get0_pubkey(csr.req) else { throw TLSError(.certificateGeneration, "the CSR has no key") }
        return try issue(request, subjectKey: key, issuer: issuer.certificate, issuerKey: issuer.key)
    }

    static func issue(_ request: CertificateRequest, subjectKey: OpaquePointer,
                      issuer: Certificate?, issuerKey: PrivateKey) throws -> Certificate {
        OpenSSLErrorQueue.clear()
        guard let x509 = X509_new() else { throw failure("cannot allocate a certificate") }
        let certificate = Certificate(taking: x509)

        guard X509_set_version(x509, 2) == 1 else { throw failure("cannot set the version") }  // v3
        try setRandomSerial(x509)
        guard X509_gmtime_adj(X509_getm_notBefore(x509), request.notBefore) != nil,
              X509_gmtime_adj(X509_getm_notAfter(x509), request.notAfter) != nil else {
            throw failure("cannot set the validity")
        }
        let subject = X509_get_subject_name(x509)
        if let organization = request.organization { try add(subject, "O", organization) }
        for unit in request.organizationalUnits { try add(subject, "OU", unit) }
        try add(subject, "CN", request.commonName)
        guard X509_set_issuer_name(x509, issuer.map { X509_get_subject_name($0.x509) } ?? subject) == 1,
              X509_set_pubkey(x509, subjectKey) == 1 else {
            throw failure("cannot set the names or the public key")
        }

        for (nid, value) in extensions(request) {
            guard netobs_X509_add_ext(x509, issuer?.x509, nid, value) == 1 else {
                throw failure("cannot add extension \(value)")
            }
        }
        guard X509_sign(x509, issuerKey.pkey, SignatureDigest.for(issuerKey.pkey)) > 0 else { throw failure("cannot sign") }
        return certificate
    }

    private static func extensions(_ request: CertificateRequest) -> [(Int32, String)] {
        var result: [(Int32, String)] = [(NID_subject_key_identifier, "hash")]
        switch request.usage {
        case .certificateAuthority:
            result += [(NID_basic_constraints, "critical,CA:TRUE,pathlen:0"),
                       (NID_key_usage, "critical,keyCertSign,cRLSign")]
        case .server:
            result += [(NID_basic_constraints, "critical,CA:FALSE"),
                       (NID_key_usage, "critical,digitalSignature"),
                       (NID_ext_key_usage, "serverAuth")]
        case .client:
            result += [(NID_basic_constraints, "critical,CA:FALSE"),
                       (NID_key_usage, "critical,digitalSignature"),
                       (NID_ext_key_usage, "clientAuth")]
        }
        if request.usage != .certificateAuthority {
            result.append((NID_authority_key_identifier, "keyid:always"))
        }
        let alt = request.dnsNames.map { "DNS:\($0)" } + request.ipAddresses.map { "IP:\($0)" }
            + request.uris.map { "URI:\($0)" }
        if !alt.isEmpty { result.append((NID_subject_alt_name, alt.joined(separator: ","))) }
        return result
    }

    private static func setRandomSerial(_ x509: OpaquePointer) throws {
        var bytes = [UInt8](repeating: 0, count: 16)
        guard RAND_bytes(&bytes, Int32(bytes.count)) == 1 else { throw failure("no random bytes") }
        bytes[0] &= 0x7f  // positive, as RFC 5280 requires
        guard let bn = BN_bin2bn(bytes, Int32(bytes.count), nil) else { throw failure("cannot make a serial") }
        defer { BN_free(bn) }
        guard let serial = BN_to_ASN1_INTEGER(bn, nil) else { throw failure("cannot make a serial") }
        defer { ASN1_INTEGER_free(serial) }
        guard X509_set_serialNumber(x509, serial) == 1 else { throw failure("cannot set the serial") }
    }

    private static func add(_ name: OpaquePointer?, _ field: String, _ value: String) throws {
        guard X509_NAME_add_entry_by_txt(name, field, MBSTRING_UTF8, value, -1, -1, 0) == 1 else {
            throw failure("cannot set \(field)=\(value)")
        }
    }

    private static func failure(_ what: String) -> TLSError {
        OpenSSLErrorQueue.error(.certificateGeneration, what)
    }
}
