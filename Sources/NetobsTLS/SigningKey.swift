import COpenSSL
#if canImport(Glibc)
import Glibc
#endif

/// An Ed25519 (RFC 8032) private key, e.g. the operator key that signs program bundles.
/// Its `description` never shows key material; the PEM is only produced for writing a key file.
public final class SigningKey: @unchecked Sendable, CustomStringConvertible {
    let pkey: OpaquePointer

    private init(taking pkey: OpaquePointer) { self.pkey = pkey }

    deinit { EVP_PKEY_free(pkey) }

    /// A fresh key from OpenSSL's CSPRNG.
    public static func generate() throws -> SigningKey {
        OpenSSLErrorQueue.clear()
        guard let ctx = EVP_PKEY_CTX_new_id(EVP_PKEY_ED25519, nil) else {
            throw OpenSSLErrorQueue.error(.certificateGeneration, "cannot generate an Ed25519 key")
        }
        defer { EVP_PKEY_CTX_free(ctx) }
        var pkey: OpaquePointer?
        guard EVP_PKEY_keygen_init(ctx) == 1, EVP_PKEY_generate(ctx, &pkey) == 1, let pkey else {
            throw OpenSSLErrorQueue.error(.certificateGeneration, "cannot generate an Ed25519 key")
        }
        return SigningKey(taking: pkey)
    }

    /// Reads an unencrypted PEM private key, which must be Ed25519; `source` names it in errors.
    public convenience init(pem: [UInt8], source: String = "PEM") throws {
        OpenSSLErrorQueue.clear()
        let bio = try MemoryBIO(reading: pem)
        guard let pkey = PEM_read_bio_PrivateKey(bio.pointer, nil, { _, _, _, _ in 0 }, nil) else {
            throw OpenSSLErrorQueue.error(.configuration, "cannot read private key \(source)")
        }
        guard EVP_PKEY_get_base_id(pkey) == EVP_PKEY_ED25519 else {
            let type = String(cString: EVP_PKEY_get0_type_name(pkey))
            EVP_PKEY_free(pkey)
            throw TLSError(.configuration, "\(source) is a \(type) key, not Ed25519")
        }
        self.init(taking: pkey)
    }

    /// Reads an Ed25519 private key file.
    public convenience init(file path: String) throws {
        try self.init(pem: try FileBytes.read(path, what: "signing key"), source: path)
    }

    /// Unencrypted PKCS#8 PEM, for key files only.
    public var pkcs8PEM: [UInt8] {
        let bio = MemoryBIO()
        PEM_write_bio_PrivateKey(bio.pointer, pkey, nil, nil, 0, nil, nil)
        return bio.contents()
    }

    /// The matching public key.
    public var publicKey: VerifyingKey {
        // The raw form of the public half of this key cannot fail for Ed25519.
        try! VerifyingKey(raw: Ed25519Raw.publicBytes(pkey))
    }

    /// The 64-byte Ed25519 signature of `message` (pure Ed25519: no pre-hash, NULL digest).
    public func sign(_ message: [UInt8]) throws -> [UInt8] {
        OpenSSLErrorQueue.clear()
        guard let md = EVP_MD_CTX_new() else { throw TLSError(.configuration, "out of memory") }
        defer { EVP_MD_CTX_free(md) }
        var signature = [UInt8](repeating: 0, count: 64)
        var length = signature.count
        let ok = message.withUnsafeBufferPointer { msg in
            EVP_DigestSignInit(md, nil, nil, nil, pkey) == 1
                && EVP_DigestSign(md, &signature, &length, msg.baseAddress, msg.count) == 1
        }
        guard ok, length == 64 else { throw OpenSSLErrorQueue.error(.configuration, "Ed25519 signing failed") }
        return signature
    }

    public var description: String { "SigningKey(ED25519, id \(publicKey.keyId))" }
}

/// An Ed25519 public key: verifies signatures; `keyId` names it in bundles.
public struct VerifyingKey: Sendable, Hashable, CustomStringConvertible {
    /// The 32-byte raw public key (RFC 8032).
    public let raw: [UInt8]

    public init(raw: [UInt8]) throws {
        guard raw.count == 32 else {
            throw TLSError(.configuration, "an Ed25519 public key has 32 bytes, not \(raw.count)")
        }
        self.raw = raw
    }

    /// Reads a PEM public key (SubjectPublicKeyInfo, `-----BEGIN PUBLIC KEY-----`), which must be Ed25519.
    public init(pem: [UInt8], source: String = "PEM") throws {
        OpenSSLErrorQueue.clear()
        let bio = try MemoryBIO(reading: pem)
        guard let pkey = PEM_read_bio_PUBKEY(bio.pointer, nil, nil, nil) else {
            throw OpenSSLErrorQueue.error(.configuration, "cannot read public key \(source)")
        }
        defer { EVP_PKEY_free(pkey) }
        guard EVP_PKEY_get_base_id(pkey) == EVP_PKEY_ED25519 else {
            throw TLSError(.configuration,
                           "\(source) is a \(String(cString: EVP_PKEY_get0_type_name(pkey))) key, not Ed25519")
        }
        try self.init(raw: Ed25519Raw.publicBytes(pkey))
    }

    /// Reads an Ed25519 public key file.
    public init(file path: String) throws {
        try self.init(pem: try FileBytes.read(path, what: "public key"), source: path)
    }

    /// First 8 bytes of SHA-256 of the raw public key, as 16 lowercase hex digits.
    public var keyId: String { Digest.hex(Array(Digest.sha256(raw).prefix(8))) }

    /// SubjectPublicKeyInfo PEM.
    public var pem: [UInt8] {
        guard let pkey = Ed25519Raw.publicKey(raw) else { return [] }
        defer { EVP_PKEY_free(pkey) }
        let bio = MemoryBIO()
        PEM_write_bio_PUBKEY(bio.pointer, pkey)
        return bio.contents()
    }

    /// Whether `signature` is a valid Ed25519 signature of `message` by this key.
    public func verify(signature: [UInt8], of message: [UInt8]) -> Bool {
        guard signature.count == 64, let pkey = Ed25519Raw.publicKey(raw) else { return false }
        defer { EVP_PKEY_free(pkey) }
        guard let md = EVP_MD_CTX_new() else { return false }
        defer { EVP_MD_CTX_free(md) }
        OpenSSLErrorQueue.clear()
        let ok = signature.withUnsafeBufferPointer { sig in
            message.withUnsafeBufferPointer { msg in
                EVP_DigestVerifyInit(md, nil, nil, nil, pkey) == 1
                    && EVP_DigestVerify(md, sig.baseAddress, sig.count, msg.baseAddress, msg.count) == 1
            }
        }
        OpenSSLErrorQueue.clear() // a failed verification leaves an entry; it is not an error here
        return ok
    }

    public var description: String { "VerifyingKey(ED25519, id \(keyId))" }
}

/// Raw Ed25519 key bytes in and out of EVP_PKEY.
enum Ed25519Raw {
    static func publicBytes(_ pkey: OpaquePointer) throws -> [UInt8] {
        var raw = [UInt8](repeating: 0, count: 32)
        var length = raw.count
        guard EVP_PKEY_get_raw_public_key(pkey, &raw, &length) == 1, length == 32 else {
            throw OpenSSLErrorQueue.error(.configuration, "cannot read the raw Ed25519 public key")
        }
        return raw
    }

    /// A new EVP_PKEY the caller frees.
    static func publicKey(_ raw: [UInt8]) -> OpaquePointer? {
        raw.withUnsafeBufferPointer { EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nil, $0.baseAddress, $0.count) }
    }
}

/// SHA-256 through libcrypto, and hex.
public enum Digest {
    public static func sha256(_ bytes: [UInt8]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 32)
        var length: UInt32 = 0
        let ok = bytes.withUnsafeBufferPointer { EVP_Digest($0.baseAddress, $0.count, &out, &length, EVP_sha256(), nil) }
        precondition(ok == 1 && length == 32, "SHA-256 failed")
        return out
    }

    public static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count * 2)
        for b in bytes { out += [digits[Int(b >> 4)], digits[Int(b & 15)]] }
        return String(decoding: out, as: UTF8.self)
    }
}

/// The operator's signing key pair on disk: `operator-key.pem` (0600) and `operator-key.pub.pem` (0644).
public enum OperatorKeyFiles {
    public static let privateName = "operator-key.pem"
    public static let publicName = "operator-key.pub.pem"

    /// Makes a fresh key pair in `directory` (created if missing); existing files only with `force`.
    public static func create(in directory: String, force: Bool) throws -> (privatePath: String, publicPath: String, key: SigningKey) {
        let dir = directory.hasSuffix("/") ? directory : directory + "/"
        let (priv, pub) = (dir + privateName, dir + publicName)
        let existing = [priv, pub].filter(SecureFile.exists)
        if !force && !existing.isEmpty {
            throw TLSError(.configuration, "refusing to overwrite \(existing.joined(separator: ", ")) (use --force)")
        }
        try SecureFile.makeDirectory(directory)
        let key = try SigningKey.generate()
        try SecureFile.write(key.pkcs8PEM, to: priv, mode: 0o600)
        try SecureFile.write(key.publicKey.pem, to: pub, mode: 0o644)
        return (priv, pub, key)
    }
}
