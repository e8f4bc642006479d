/// A CA that signs certificates at run time (the controller signing bootstrapped agents): its
/// certificate and private key, checked to belong together when loaded.
public final class IssuingCA: Sendable {
    public let certificate: Certificate
    public let key: PrivateKey

    public init(certificate: Certificate, key: PrivateKey) throws {
        guard certificate.isCertified(key) else {
            throw TLSError(.configuration, "the CA key does not belong to CA certificate \(certificate.subject)")
        }
        self.certificate = certificate
        self.key = key
    }

    /// Reads the key from `keyFile` (refused unless only its owner, or its owner and our own
    /// group, can read it) and takes the certificate of `bundleFile` that key belongs to.
    public static func load(bundleFile: String, keyFile: String) throws -> IssuingCA {
        if let problem = KeyFilePermissions.problem(keyFile) {
            throw TLSError(.configuration, "CA key: \(problem)")
        }
        let key = try PrivateKey(pem: try FileBytes.read(keyFile, what: "CA key", limit: 1 << 20), source: keyFile)
        let bundle = try Certificate.all(fromPEM: try FileBytes.read(bundleFile, what: "CA bundle", limit: 1 << 20),
                                         source: bundleFile)
        guard let ca = bundle.first(where: { $0.isCertified(key) }) else {
            throw TLSError(.configuration, "no certificate in \(bundleFile) belongs to the CA key \(keyFile)")
        }
        return try IssuingCA(certificate: ca, key: key)
    }

    /// A client certificate for `csr`'s key: `CN=commonName`, `O=netobs`, `OU=netobs-<role>`,
    /// clientAuth, valid from `backdate` seconds ago for `lifetime` seconds from now. Nothing is
    /// copied from the request but its key.
    public func issueClient(commonName: String, role: NetobsRole, keyOf csr: CertificateSigningRequest,
                            lifetime: Int, backdate: Int) throws -> Certificate {
        var request = CertificateRequest(commonName: commonName, usage: .client, role: role)
        request.notBefore = -backdate
        request.notAfter = lifetime
        return try CertificateFactory.issue(request, keyOf: csr, by: (certificate, key))
    }
}
