import NetobsWire

/// Why a program bundle was refused. Each case is a different operator mistake or attack, so
/// each has its own message; none of them lets a byte of the object reach the kernel.
public enum BundleRejection: Error, Sendable, Equatable, CustomStringConvertible {
    /// The bytes are not a ProgramBundle payload (truncated, over a limit, trailing bytes...).
    case malformed(String)
    /// The bundle carries another program than the one to be replaced.
    case wrongProgramName(expected: String, found: String)
    /// SHA-256 of the object differs from the bundle's digest: the object was changed after signing.
    case digestMismatch(expected: String, actual: String)
    /// Signed by a key that is not the configured operator key.
    case unknownSigner(keyId: String, trusted: String)
    /// The signature does not verify over the signing input with the operator key.
    case badSignature(keyId: String)

    public var description: String {
        switch self {
        case .malformed(let why):
            return "malformed program bundle: \(why)"
        case .wrongProgramName(let expected, let found):
            return "wrong program name: the bundle carries '\(Self.printable(found))', expected '\(expected)'"
        case .digestMismatch(let expected, let actual):
            return "tampered object: its SHA-256 is \(actual), the bundle says \(expected)"
        case .unknownSigner(let keyId, let trusted):
            return "wrong key: signed by key \(Self.printable(keyId)), the operator key is \(trusted)"
        case .badSignature(let keyId):
            return "bad signature: the Ed25519 signature by key \(keyId) does not verify"
        }
    }

    /// Names from an unverified bundle go into logs: control characters are escaped.
    static func printable(_ s: String) -> String {
        s.unicodeScalars.map { $0.properties.generalCategory == .control ? $0.escaped(asASCII: true) : String($0) }
            .joined()
    }

    /// The protocol's error code for this rejection (PROTOCOL.md §6.7): 0x0205 digest, else 0x0204.
    public var protocolErrorCode: UInt16 {
        if case .digestMismatch = self { return 0x0205 }
        return 0x0204
    }
}

/// Signing and verifying ProgramBundles (PROTOCOL.md §6.7). A bundle file is the ProgramBundle
/// payload exactly as on the wire, so the controller can forward it untouched.
public enum BundleSignature {
    /// A signed bundle of `object`.
    public static func sign(object: [UInt8], name: String, version: String, key: SigningKey) throws -> ProgramBundle {
        var bundle = ProgramBundle(name: name, version: version, sha256: Digest.sha256(object),
                                   signature: [UInt8](repeating: 0, count: ProgramBundle.signatureSize),
                                   signerKeyId: key.publicKey.keyId, object: object)
        bundle.signature = try key.sign(bundle.signingInput)
        return bundle
    }

    /// Largest bundle file: the object limit plus room for the other fields.
    public static let maxFileSize = Limits.programObject + 4096

    /// Reads a whole file (an object or a bundle) of at most `maxFileSize` bytes; `what` names it in errors.
    public static func readFile(_ path: String, what: String) throws -> [UInt8] {
        try FileBytes.read(path, what: what, limit: maxFileSize)
    }

    /// Writes a bundle file atomically (a reloading agent never sees half a file), mode 0644.
    public static func writeFile(_ bytes: [UInt8], to path: String) throws {
        try SecureFile.write(bytes, to: path, mode: 0o644)
    }

    /// The wire encoding of `bundle` (the ProgramBundle payload).
    public static func encode(_ bundle: ProgramBundle) throws -> [UInt8] {
        var w = ByteWriter(capacity: bundle.object.count + 256)
        do {
            try bundle.encode(into: &w)
        } catch {
            throw TLSError(.configuration, "cannot encode the bundle: \(error)")
        }
        return w.bytes
    }

    /// Decodes a ProgramBundle payload, which must be consumed exactly.
    public static func decode(_ bytes: [UInt8]) throws(BundleRejection) -> ProgramBundle {
        var r = ByteReader(bytes)
        do {
            let bundle = try ProgramBundle(from: &r)
            try r.expectEnd("program_bundle")
            return bundle
        } catch {
            throw .malformed("\(error)")
        }
    }

    /// Checks an encoded bundle against the operator key and returns it; the object is safe to
    /// load only when this returns. Order: decode, name, digest, signer, signature.
    public static func verify(_ bytes: [UInt8], trusting key: VerifyingKey,
                              expectedName: String? = nil) throws(BundleRejection) -> ProgramBundle {
        let bundle = try decode(bytes)
        try verify(bundle, trusting: key, expectedName: expectedName)
        return bundle
    }

    /// Checks a decoded bundle against the operator key.
    public static func verify(_ bundle: ProgramBundle, trusting key: VerifyingKey,
                              expectedName: String? = nil) throws(BundleRejection) {
        if let expectedName, bundle.name != expectedName {
            throw .wrongProgramName(expected: expectedName, found: bundle.name)
        }
        let actual = Digest.sha256(bundle.object)
        guard actual == bundle.sha256 else {
            throw .digestMismatch(expected: Digest.hex(bundle.sha256), actual: Digest.hex(actual))
        }
        guard bundle.signerKeyId == key.keyId else {
            throw .unknownSigner(keyId: bundle.signerKeyId, trusted: key.keyId)
        }
        guard key.verify(signature: bundle.signature, of: bundle.signingInput) else {
            throw .badSignature(keyId: bundle.signerKeyId)
        }
    }
}
