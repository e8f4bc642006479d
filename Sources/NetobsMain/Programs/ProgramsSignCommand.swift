import ArgumentParser
import NetobsTLS
import NetobsWire

/// `netobs programs sign`: a BPF object into a signed ProgramBundle file.
struct ProgramsSignCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sign",
        abstract: "Sign a BPF object into a program bundle.",
        discussion: """
            The signature (Ed25519) covers the object's SHA-256, the name, the version and the key \
            id (PROTOCOL.md §6.7), so a signed object cannot be replayed under another name or version. \
            The name is the kernel object the bundle replaces (l4: TCP/UDP flows, l7: HTTP/DNS); \
            agents swap each object on its own.
            """)

    @Option(help: ArgumentHelp("The operator's private key (`netobs programs keygen`).", valueName: "key.pem"))
    var key: String

    @Option(help: ArgumentHelp("The BPF ELF object to sign.", valueName: "file.bpf.o"))
    var object: String

    @Option(help: ArgumentHelp(
        "The kernel object this bundle replaces on the agents: \(ProgramBundle.knownObjects.joined(separator: " or ")) "
            + "(signed, so agents load it as that object and no other).", valueName: "object"))
    var name: String

    @Option(help: "Version of this build, e.g. 1.4.2.")
    var version: String

    @Option(help: ArgumentHelp("Bundle file to write.", valueName: "bundle"))
    var out: String

    func validate() throws {
        guard ProgramBundle.knownObjects.contains(name) else {
            throw ValidationError("--name must be an object agents load: \(ProgramBundle.knownObjects.joined(separator: ", "))")
        }
        for (flag, value) in [("--name", name), ("--version", version)] {
            guard !value.isEmpty, value.utf8.count <= Limits.label else {
                throw ValidationError("\(flag) must have 1 to \(Limits.label) bytes")
            }
            guard value.unicodeScalars.allSatisfy({ $0.properties.generalCategory != .control }) else {
                throw ValidationError("\(flag) must not contain control characters")
            }
        }
    }

    func run() throws {
        do {
            let signingKey = try SigningKey(file: key)
            let bytes = try BundleSignature.readFile(object, what: "BPF object")
            guard bytes.starts(with: [0x7f, 0x45, 0x4c, 0x46]) else { throw CommandFailure("\(object) is not an ELF object") }
            guard bytes.count <= Limits.programObject else {
                throw CommandFailure("\(object) has \(bytes.count) bytes; a bundle carries at most \(Limits.programObject)")
            }
            let bundle = try BundleSignature.sign(object: bytes, name: name, version: version, key: signingKey)
            try BundleSignature.writeFile(try BundleSignature.encode(bundle), to: out)
            print("wrote \(out)")
            ProgramsVerifyCommand.describe(bundle)
        } catch let error as TLSError {
            throw CommandFailure(error.message)
        }
    }
}
