import COpenSSL

/// An X.509 certificate (OpenSSL `X509`, reference counted). Immutable once made, so shared
/// freely across threads.
public final class Certificate: @unchecked Sendable, CustomStringConvertible {
    let x509: OpaquePointer

    /// Takes ownership of one reference.
    init(taking x509: OpaquePointer) { self.x509 = x509 }

    deinit { X509_free(x509) }

    /// All certificates in a PEM text, in order. `source` names it in errors.
    public static func all(fromPEM pem: [UInt8], source: String) throws -> [Certificate] {
        OpenSSLErrorQueue.clear()
        let bio = try MemoryBIO(reading: pem)
        var certs: [Certificate] = []
        while let x509 = PEM_read_bio_X509(bio.pointer, nil, nil, nil) {
            certs.append(Certificate(taking: x509))
        }
        // The loop ends on "no start line" at the end of the text; only that is expected.
        let last = ERR_peek_last_error()
        if last != 0 && !(ERR_GET_LIB(last) == ERR_LIB_PEM && ERR_GET_REASON(last) == PEM_R_NO_START_LINE) {
            throw OpenSSLErrorQueue.error(.configuration, "bad certificate PEM in \(source)")
        }
        OpenSSLErrorQueue.clear()
        return certs
    }

    /// All certificates of a PEM file (a CA bundle).
    public static func all(fromFile path: String, what: String = "CA bundle") throws -> [Certificate] {
        try all(fromPEM: FileBytes.read(path, what: what, limit: 1 << 20), source: path)
    }

    public convenience init(pem: [UInt8]) throws {
        guard let first = try Certificate.all(fromPEM: pem, source: "PEM").first else {
            throw TLSError(.configuration, "no certificate in PEM")
        }
        X509_up_ref(first.x509)
        self.init(taking: first.x509)
    }

    public var pem: [UInt8] {
        let bio = MemoryBIO()
        PEM_write_bio_X509(bio.pointer, x509)
        return bio.contents()
    }

    /// The subject in one line, RFC 2253 order ("CN=agent,OU=netobs-agent,O=netobs").
    public var subject: String { X509Names.oneLine(X509_get_subject_name(x509)) }
    public var issuer: String { X509Names.oneLine(X509_get_issuer_name(x509)) }

    public var description: String { "Certificate(\(subject))" }
}

/// A memory BIO owned by Swift.
final class MemoryBIO {
    let pointer: OpaquePointer

    init() { pointer = BIO_new(BIO_s_mem())! }

    /// A BIO holding a copy of `bytes` (copied so the Swift array's lifetime does not matter).
    convenience init(reading bytes: [UInt8]) throws {
        self.init()
        if !bytes.isEmpty {
            let written = bytes.withUnsafeBytes { BIO_write(pointer, $0.baseAddress, Int32($0.count)) }
            guard written == Int32(bytes.count) else { throw TLSError(.configuration, "out of memory") }
        }
    }

    deinit { BIO_free(pointer) }

    func contents() -> [UInt8] {
        var data: UnsafeMutablePointer<CChar>?
        let length = netobs_BIO_get_mem_data(pointer, &data)
        guard length > 0, let data else { return [] }
        return data.withMemoryRebound(to: UInt8.self, capacity: length) {
            Array(UnsafeBufferPointer(start: $0, count: length))
        }
    }
}
