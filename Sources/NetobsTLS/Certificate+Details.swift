import COpenSSL
#if canImport(Glibc)
import Glibc
#endif

/// What an agent needs to read from its own certificate (validity, name, key) and what a CA needs
/// to hand one over the wire (DER).
extension Certificate {
    /// Parses exactly one DER certificate; trailing bytes are refused.
    public convenience init(der: [UInt8]) throws {
        OpenSSLErrorQueue.clear()
        guard let x509 = try DER.decode(der, what: "certificate", d2i_X509, free: { X509_free($0) }) else {
            throw OpenSSLErrorQueue.error(.configuration, "not a DER X.509 certificate")
        }
        self.init(taking: x509)
    }

    public var der: [UInt8] { DER.encode(x509, i2d_X509) }

    /// Validity bounds as unix seconds.
    public var notBefore: Int64 { ASN1Time.unixSeconds(X509_get0_notBefore(x509)) }
    public var notAfter: Int64 { ASN1Time.unixSeconds(X509_get0_notAfter(x509)) }

    /// The serial number, lowercase hex: how an issued certificate is named in logs.
    public var serialHex: String { ASN1Time.serialHex(X509_get0_serialNumber(x509)) }

    public var commonName: String? { X509Names.values(X509_get_subject_name(x509), nid: NID_commonName).first }

    public var role: NetobsRole? {
        NetobsRole.from(organizationalUnits: X509Names.values(X509_get_subject_name(x509), nid: NID_organizationalUnitName))
    }

    /// True when `key` is the private half of this certificate's public key.
    public func isCertified(_ key: PrivateKey) -> Bool {
        guard let mine = X509_get0_pubkey(x509) else { return false }
        return EVP_PKEY_eq(mine, key.pkey) == 1
    }

    /// Why this certificate is not a valid TLS client certificate under `roots` now (chain,
    /// validity, purpose), or nil when it is.
    public func clientVerificationFailure(roots: [Certificate]) -> String? {
        OpenSSLErrorQueue.clear()
        guard let store = X509_STORE_new() else { return "out of memory" }
        defer { X509_STORE_free(store) }
        for root in roots { X509_STORE_add_cert(store, root.x509) }
        guard let ctx = X509_STORE_CTX_new() else { return "out of memory" }
        defer { X509_STORE_CTX_free(ctx) }
        guard X509_STORE_CTX_init(ctx, store, x509, nil) == 1,
              X509_STORE_CTX_set_purpose(ctx, X509_PURPOSE_SSL_CLIENT) == 1 else { return "cannot set up verification" }
        if X509_verify_cert(ctx) == 1 { return nil }
        OpenSSLErrorQueue.clear()
        return String(cString: X509_verify_cert_error_string(Int(X509_STORE_CTX_get_error(ctx))))
    }
}

/// DER encoding and strict decoding through OpenSSL's i2d/d2i pairs.
enum DER {
    static func encode(_ object: OpaquePointer, _ i2d: (OpaquePointer?, UnsafeMutablePointer<UnsafeMutablePointer<UInt8>?>?) -> Int32) -> [UInt8] {
        let length = i2d(object, nil)
        guard length > 0 else { return [] }
        var bytes = [UInt8](repeating: 0, count: Int(length))
        bytes.withUnsafeMutableBufferPointer { buffer in
            var out: UnsafeMutablePointer<UInt8>? = buffer.baseAddress
            _ = i2d(object, &out)
        }
        return bytes
    }

    /// Nil when OpenSSL cannot parse `bytes`; throws when it parses a prefix only.
    static func decode(_ bytes: [UInt8], what: String,
                       _ d2i: (UnsafeMutablePointer<OpaquePointer?>?, UnsafeMutablePointer<UnsafePointer<UInt8>?>?, Int) -> OpaquePointer?,
                       free: (OpaquePointer) -> Void = { _ in }) throws -> OpaquePointer? {
        guard !bytes.isEmpty else { return nil }
        return try bytes.withUnsafeBufferPointer { buffer -> OpaquePointer? in
            var cursor: UnsafePointer<UInt8>? = buffer.baseAddress
            guard let object = d2i(nil, &cursor, buffer.count) else { return nil }
            let used = cursor.map { $0 - buffer.baseAddress! } ?? 0
            guard used == buffer.count else {
                free(object)
                throw TLSError(.configuration, "\(what): \(buffer.count - used) bytes after the DER structure")
            }
            return object
        }
    }
}

/// ASN.1 values read as Swift values.
enum ASN1Time {
    static func unixSeconds(_ time: UnsafePointer<ASN1_TIME>?) -> Int64 {
        var parts = tm()
        guard let time, ASN1_TIME_to_tm(time, &parts) == 1 else { return 0 }
        return Int64(timegm(&parts))
    }

    static func serialHex(_ serial: UnsafePointer<ASN1_INTEGER>?) -> String {
        guard let serial, let bn = ASN1_INTEGER_to_BN(serial, nil) else { return "?" }
        defer { BN_free(bn) }
        guard let hex = BN_bn2hex(bn) else { return "?" }
        defer { netobs_OPENSSL_free(hex) }
        return String(cString: hex).lowercased()
    }
}
