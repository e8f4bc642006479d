import ArgumentParser
import NetobsTLS

/// `netobs programs keygen`: a fresh operator signing key pair.
struct ProgramsKeygenCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keygen",
        abstract: "Make the operator's Ed25519 signing key pair.",
        discussion: """
            Writes DIR/operator-key.pem (private, PKCS#8 PEM, unencrypted, mode 0600) and \
            DIR/operator-key.pub.pem (public, for agents' --operator-key). Existing files are only \
            replaced with --force.
            """)

    @Option(help: ArgumentHelp("Directory to write the key files into (created if missing).", valueName: "dir"))
    var out: String

    @Flag(help: "Replace existing key files.")
    var force = false

    func run() throws {
        do {
            let files = try OperatorKeyFiles.create(in: out, force: force)
            print("wrote \(files.privatePath)  (private key, mode 600)")
            print("wrote \(files.publicPath)  (public key, mode 644)")
            print("key id \(files.key.publicKey.keyId)")
        } catch let error as TLSError {
            throw CommandFailure(error.message)
        }
    }
}
