import Foundation
import NetobsTLS
import NetobsWire
import Testing
@testable import NetobsMain

private func hexBytes(_ s: String) -> [UInt8] {
    var out: [UInt8] = []
    var i = s.startIndex
    while i < s.endIndex {
        let j = s.index(i, offsetBy: 2)
        out.append(UInt8(s[i..<j], radix: 16)!)
        i = j
    }
    return out
}

/// A PKCS#8 PEM of a raw Ed25519 seed (RFC 8410: fixed 16-byte prefix, then the seed).
private func ed25519PEM(seed: [UInt8]) -> [UInt8] {
    let der = hexBytes("302e020100300506032b657004220420") + seed
    return Array("-----BEGIN PRIVATE KEY-----\n\(Data(der).base64EncodedString())\n-----END PRIVATE KEY-----\n".utf8)
}

private let object: [UInt8] = [0x7f, 0x45, 0x4c, 0x46] + (0..<5000).map { UInt8(truncatingIfNeeded: $0 &* 31) }

@Suite("Ed25519 signing keys")
struct SigningKeyTests {
    // RFC 8032 §7.1, tests 1 and 2.
    static let vectors: [(seed: String, pub: String, msg: String, sig: String)] = [
        ("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
         "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", "",
         "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"),
        ("4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
         "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c", "72",
         "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00"),
    ]

    @Test("RFC 8032 vectors: same public key, same signature, verifies")
    func rfc8032() throws {
        for v in Self.vectors {
            let key = try SigningKey(pem: ed25519PEM(seed: hexBytes(v.seed)))
            #expect(key.publicKey.raw == hexBytes(v.pub))
            let signature = try key.sign(hexBytes(v.msg))
            #expect(signature == hexBytes(v.sig))
            #expect(try VerifyingKey(raw: hexBytes(v.pub)).verify(signature: signature, of: hexBytes(v.msg)))
            #expect(!(try VerifyingKey(raw: hexBytes(v.pub)).verify(signature: signature, of: hexBytes(v.msg) + [0])))
        }
    }

    @Test("generate, PEM round trip, key id is the first 8 bytes of SHA-256 of the raw public key")
    func roundTrip() throws {
        let key = try SigningKey.generate()
        let again = try SigningKey(pem: key.pkcs8PEM)
        #expect(again.publicKey == key.publicKey)
        let pub = try VerifyingKey(pem: key.publicKey.pem)
        #expect(pub == key.publicKey)
        #expect(pub.keyId.count == 16)
        #expect(pub.keyId == Digest.hex(Array(Digest.sha256(pub.raw).prefix(8))))
        let message = Array("hello".utf8)
        #expect(pub.verify(signature: try key.sign(message), of: message))
        #expect(!"\(key)".contains("PRIVATE"))
        // Two fresh keys differ.
        #expect(try SigningKey.generate().publicKey != key.publicKey)
    }

    @Test("refuses keys that are not Ed25519")
    func refusesOtherKeyTypes() throws {
        let p256 = try PrivateKey.generateP256()
        #expect(throws: TLSError.self) { try SigningKey(pem: p256.pkcs8PEM) }
        #expect(throws: TLSError.self) { try VerifyingKey(pem: Array("not a key".utf8)) }
        #expect(throws: TLSError.self) { try VerifyingKey(raw: [1, 2, 3]) }
    }

    @Test("openssl agrees: its signature verifies here, and it reads our PEM files")
    func opensslInterop() throws {
        guard OpenSSLTool.path != nil else { return }
        let dir = NSTemporaryDirectory() + "netobs-sig-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let files = try OperatorKeyFiles.create(in: dir, force: false)
        let message = Array("netobs interop".utf8)
        try Data(message).write(to: URL(fileURLWithPath: dir + "/msg"))
        let out = try OpenSSLTool.run(["pkeyutl", "-sign", "-rawin", "-inkey", files.privatePath,
                                       "-in", dir + "/msg", "-out", dir + "/sig"])
        #expect(out.status == 0, "\(out.all)")
        let signature = try [UInt8](Data(contentsOf: URL(fileURLWithPath: dir + "/sig")))
        let pub = try VerifyingKey(file: files.publicPath)
        #expect(pub.verify(signature: signature, of: message))
        #expect(signature == (try files.key.sign(message)), "Ed25519 is deterministic")
        let der = try OpenSSLTool.run(["pkey", "-pubin", "-in", files.publicPath, "-noout", "-text"])
        #expect(der.status == 0 && der.stdout.contains("ED25519 Public-Key"), "\(der.all)")
    }
}

@Suite("signed program bundles")
struct BundleSignatureTests {
    let key: SigningKey
    let encoded: [UInt8]

    init() throws {
        key = try SigningKey.generate()
        encoded = try BundleSignature.encode(BundleSignature.sign(object: object, name: "l4", version: "1.2.3", key: key))
    }

    private func rejection(_ bytes: [UInt8], key trusted: VerifyingKey? = nil,
                           name: String? = "l4") -> BundleRejection? {
        do {
            _ = try BundleSignature.verify(bytes, trusting: trusted ?? key.publicKey, expectedName: name)
            return nil
        } catch {
            return error
        }
    }

    private func mutate(_ change: (inout ProgramBundle) -> Void) throws -> [UInt8] {
        var bundle = try BundleSignature.decode(encoded)
        change(&bundle)
        return try BundleSignature.encode(bundle)
    }

    @Test("a signed bundle verifies and gives back the object; the file is the wire message")
    func verifies() throws {
        let bundle = try BundleSignature.verify(encoded, trusting: key.publicKey, expectedName: "l4")
        #expect(bundle.object == object)
        #expect(bundle.name == "l4" && bundle.version == "1.2.3")
        #expect(bundle.signerKeyId == key.publicKey.keyId)
        #expect(bundle.sha256 == Digest.sha256(object))
        // The same bytes decode as the protocol's ProgramBundle message.
        let message = try Message.decode(type: .programBundle, version: ProgramBundle.version, payload: encoded[...])
        #expect(message == .programBundle(bundle))
    }

    @Test("one byte of the object changed: tampered object (digest)")
    func tamperedObject() throws {
        var bytes = encoded
        bytes[bytes.count - 100] ^= 0x01 // inside the object (the payload ends with it and one tagged byte)
        guard case .digestMismatch? = rejection(bytes) else {
            Issue.record("got \(String(describing: rejection(bytes)))")
            return
        }
        #expect(rejection(bytes)!.protocolErrorCode == 0x0205)
        #expect("\(rejection(bytes)!)".contains("tampered object"))
    }

    @Test("object and digest both changed: bad signature")
    func tamperedObjectAndDigest() throws {
        let bytes = try mutate {
            $0.object[10] ^= 0x80
            $0.sha256 = Digest.sha256($0.object)
        }
        #expect(rejection(bytes) == .badSignature(keyId: key.publicKey.keyId))
    }

    @Test("one byte of the signature changed: bad signature")
    func tamperedSignature() throws {
        for index in [0, 31, 32, 63] {
            let bytes = try mutate { $0.signature[index] ^= 0x01 }
            #expect(rejection(bytes) == .badSignature(keyId: key.publicKey.keyId))
            #expect(rejection(bytes)!.protocolErrorCode == 0x0204)
        }
    }

    @Test("version or name changed after signing: bad signature (no replay)")
    func replay() throws {
        #expect(rejection(try mutate { $0.version = "9.9.9" }) == .badSignature(keyId: key.publicKey.keyId))
        #expect(rejection(try mutate { $0.name = "l4x" }, name: nil) == .badSignature(keyId: key.publicKey.keyId))
    }

    @Test("signed by another key: wrong key; another key claiming the operator's id: bad signature")
    func anotherKey() throws {
        let other = try SigningKey.generate()
        let foreign = try BundleSignature.encode(BundleSignature.sign(object: object, name: "l4", version: "1", key: other))
        #expect(rejection(foreign) == .unknownSigner(keyId: other.publicKey.keyId, trusted: key.publicKey.keyId))
        #expect("\(rejection(foreign)!)".contains("wrong key"))
        // The operator's bundle checked against another key.
        #expect(rejection(encoded, key: other.publicKey)
                == .unknownSigner(keyId: key.publicKey.keyId, trusted: other.publicKey.keyId))
        // A forger signs with its own key but writes the operator's key id.
        var forged = try BundleSignature.decode(foreign)
        forged.signerKeyId = key.publicKey.keyId
        forged.signature = try other.sign(forged.signingInput)
        #expect(rejection(try BundleSignature.encode(forged)) == .badSignature(keyId: key.publicKey.keyId))
    }

    @Test("truncated, empty, trailing bytes, garbage: malformed")
    func malformed() throws {
        for bytes in [Array(encoded.prefix(encoded.count - 1)), Array(encoded.prefix(40)), [], encoded + [0],
                      Array(repeating: 0xff, count: 200)] {
            guard case .malformed? = rejection(bytes) else {
                Issue.record("\(bytes.count) bytes: got \(String(describing: rejection(bytes)))")
                continue
            }
        }
    }

    @Test("another program's bundle: wrong program name")
    func wrongName() throws {
        let dns = try BundleSignature.encode(BundleSignature.sign(object: object, name: "dns", version: "1", key: key))
        #expect(rejection(dns) == .wrongProgramName(expected: "l4", found: "dns"))
        #expect(rejection(dns, name: nil) == nil)
        let evil = try BundleSignature.encode(BundleSignature.sign(object: object, name: "x\n\u{1b}[31m", version: "1", key: key))
        #expect(!"\(rejection(evil)!)".contains("\n"), "names from bundles are escaped in messages")
    }
}

@Suite("netobs programs")
struct ProgramsCommandTests {
    private func run(_ arguments: [String]) throws {
        var command = try NetobsCommand.parseAsRoot(arguments)
        try command.run()
    }

    @Test("keygen (0600 private key), sign, verify; verify refuses a tampered bundle and another key")
    func keygenSignVerify() throws {
        let dir = NSTemporaryDirectory() + "netobs-programs-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try run(["programs", "keygen", "--out", dir])
        let mode = { (path: String) in try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int }
        #expect(try mode(dir + "/operator-key.pem") == 0o600)
        #expect(try mode(dir + "/operator-key.pub.pem") == 0o644)
        #expect(throws: (any Error).self) { try run(["programs", "keygen", "--out", dir]) }

        try Data(object).write(to: URL(fileURLWithPath: dir + "/l4.bpf.o"))
        try run(["programs", "sign", "--key", dir + "/operator-key.pem", "--object", dir + "/l4.bpf.o",
                 "--name", "l4", "--version", "2.0.0", "--out", dir + "/l4.bundle"])
        try run(["programs", "verify", "--pubkey", dir + "/operator-key.pub.pem", "--name", "l4", dir + "/l4.bundle"])

        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: dir + "/l4.bundle")))
        let bundle = try BundleSignature.verify(bytes, trusting: VerifyingKey(file: dir + "/operator-key.pub.pem"))
        #expect(bundle.object == object && bundle.version == "2.0.0")

        var tampered = bytes
        tampered[tampered.count - 2] ^= 0x01
        try Data(tampered).write(to: URL(fileURLWithPath: dir + "/bad.bundle"))
        #expect(throws: (any Error).self) {
            try run(["programs", "verify", "--pubkey", dir + "/operator-key.pub.pem", dir + "/bad.bundle"])
        }
        try run(["programs", "keygen", "--out", dir + "/other"])
        #expect(throws: (any Error).self) {
            try run(["programs", "verify", "--pubkey", dir + "/other/operator-key.pub.pem", dir + "/l4.bundle"])
        }
        #expect(throws: (any Error).self) {
            try run(["programs", "sign", "--key", dir + "/operator-key.pub.pem", "--object", dir + "/l4.bpf.o",
                     "--name", "l4", "--version", "1", "--out", dir + "/x.bundle"])
        }
    }
}

extension ProgramsCommandTests {
    @Test("sign --name takes the objects agents load (l4, l7) and refuses others before reading any file")
    func signNamesAnObject() throws {
        let dir = NSTemporaryDirectory() + "netobs-programs-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try run(["programs", "keygen", "--out", dir])
        try Data(object).write(to: URL(fileURLWithPath: dir + "/l7.bpf.o"))
        func sign(_ name: String) -> [String] {
            ["programs", "sign", "--key", dir + "/operator-key.pem", "--object", dir + "/l7.bpf.o",
             "--name", name, "--version", "2.0", "--out", dir + "/\(name).bundle"]
        }
        try run(sign("l7"))
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: dir + "/l7.bundle")))
        #expect(try BundleSignature.verify(bytes, trusting: VerifyingKey(file: dir + "/operator-key.pub.pem")).name == "l7")
        do {
            _ = try NetobsCommand.parseAsRoot(sign("netobs"))
            Issue.record("--name netobs was accepted")
        } catch {
            #expect(NetobsCommand.message(for: error) == "--name must be an object agents load: l4, l7")
        }
        #expect(!FileManager.default.fileExists(atPath: dir + "/netobs.bundle"))
    }
}

@Suite("bundle files")
struct BundleFileTests {
    @Test("a file past the bundle size limit is refused, not read whole")
    func sizeLimit() throws {
        let path = NSTemporaryDirectory() + "netobs-big-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: path) }
        try Data(count: BundleSignature.maxFileSize + 1).write(to: URL(fileURLWithPath: path))
        #expect(throws: TLSError.self) { try BundleSignature.readFile(path, what: "program bundle") }
        try Data(count: 10).write(to: URL(fileURLWithPath: path))
        #expect(try BundleSignature.readFile(path, what: "program bundle").count == 10)
    }
}
