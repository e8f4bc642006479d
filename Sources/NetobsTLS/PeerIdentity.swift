import COpenSSL

/// Who is on the other end, read from the certificate the peer presented, once OpenSSL has
/// verified its chain (and, on clients, its name). Fired with the handshake-completed event.
public struct PeerIdentity: Sendable, Hashable, CustomStringConvertible {
    /// Subject common name, if any.
    public var commonName: String?
    /// All organizational units of the subject (the role is one of them).
    public var organizationalUnits: [String]
    public var dnsNames: [String]
    public var ipAddresses: [String]
    public var uris: [String]
    /// The netobs role carried in the certificate (see `NetobsRole`); nil when it has none.
    public var role: NetobsRole?
    /// SHA-256 of the certificate's DER, lowercase hex: a stable id for logs and audits.
    public var fingerprintSHA256: String
    /// The certificate's serial number, lowercase hex (what a CA's issuing log names).
    public var serialNumber: String
    /// End of the certificate's validity, unix seconds: a server ends the session then, so a
    /// short-lived certificate bounds how long a revoked client stays connected.
    public var notAfter: Int64

    public var description: String {
        "\(commonName ?? "<no CN>") role=\(role?.rawValue ?? "none") sha256=\(fingerprintSHA256.prefix(16))…"
    }

    init(certificate x509: OpaquePointer) {
        let subject = X509_get_subject_name(x509)
        commonName = X509Names.values(subject, nid: NID_commonName).first
        organizationalUnits = X509Names.values(subject, nid: NID_organizationalUnitName)
        let alt = X509Names.altNames(x509)
        dnsNames = alt.dns
        ipAddresses = alt.ip
        uris = alt.uri
        role = NetobsRole.from(organizationalUnits: organizationalUnits)
        serialNumber = ASN1Time.serialHex(X509_get0_serialNumber(x509))
        notAfter = ASN1Time.unixSeconds(X509_get0_notAfter(x509))
        var digest = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        X509_digest(x509, EVP_sha256(), &digest, &length)
        fingerprintSHA256 = digest.prefix(Int(length)).map { byte in
            let hex = String(byte, radix: 16)
            return hex.count == 1 ? "0" + hex : hex
        }.joined()
    }

    public init(certificate: Certificate) { self.init(certificate: certificate.x509) }
}
