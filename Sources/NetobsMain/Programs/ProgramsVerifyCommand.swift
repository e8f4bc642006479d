import ArgumentParser
import NetobsTLS
import NetobsWire

/// `netobs programs verify`: what an agent would check before loading a bundle.
struct ProgramsVerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Check a program bundle's digest and signature against the operator's public key.",
        discussion: "Exits 0 and prints the bundle's name, version, SHA-256 and signer when it verifies.")

    @Option(help: ArgumentHelp("The operator's public key (operator-key.pub.pem).", valueName: "pub.pem"))
    var pubkey: String

    @Option(help: "Also require this program name.")
    var name: String?

    @Argument(help: ArgumentHelp("The bundle file.", valueName: "bundle"))
    var bundle: String

    func run() throws {
        let key: VerifyingKey, bytes: [UInt8]
        do {
            key = try VerifyingKey(file: pubkey)
            bytes = try BundleSignature.readFile(bundle, what: "program bundle")
        } catch let error as TLSError {
            throw CommandFailure(error.message)
        }
        do {
            let verified = try BundleSignature.verify(bytes, trusting: key, expectedName: name)
            Self.describe(verified)
            print("signature OK")
        } catch {
            throw CommandFailure("\(bundle): \(error)")
        }
    }

    static func describe(_ bundle: ProgramBundle) {
        print("name     \(bundle.name)")
        print("version  \(bundle.version)")
        print("sha256   \(Digest.hex(bundle.sha256))")
        print("signer   \(bundle.signerKeyId)")
        print("object   \(bundle.object.count) bytes")
    }
}
