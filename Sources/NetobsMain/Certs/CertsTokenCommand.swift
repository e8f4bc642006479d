import ArgumentParser
import NetobsController
import NetobsDemo
import NetobsTLS
#if canImport(Glibc)
import Glibc
#endif

/// `netobs certs token`: bootstrap tokens for agents that get their certificate from the controller.
struct CertsTokenCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "token",
        abstract: "Bootstrap tokens: agents that present one get a certificate for their node from the controller.",
        discussion: """
            The controller's --bootstrap-token-file holds one token per line:

              ID.SECRET node=NAME|node=PREFIX*|node=* [expires=YYYY-MM-DDTHH:MM:SSZ] [# comment]

            ID and SECRET are 6 and 16 characters of a-z and 0-9 (kubeadm's format). The ID names \
            the token in the controller's logs; the SECRET is never logged. node=NAME binds the \
            token to one node: it cannot get a certificate for any other name. node=PREFIX* \
            allows names starting with PREFIX, node=* any node (one token for a whole DaemonSet: \
            any holder can then claim any node name). Removing a line revokes the token for the \
            next request (the file is re-read when it changes and at SIGHUP); certificates already \
            issued stay valid until they expire (--agent-cert-lifetime, 24h by default), and the \
            controller closes a session when its certificate expires.

            The agent reads its token from netobs-agent --bootstrap-token-file FILE: the first field \
            of the first line that is not a comment, so the line printed here works as it is.
            """,
        subcommands: [CertsTokenCreateCommand.self, CertsTokenCheckCommand.self])
}

/// `netobs certs token create`: a new token line, printed for the token file.
struct CertsTokenCreateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "create",
        abstract: "Print a new bootstrap token line to append to the controller's --bootstrap-token-file.")

    @Option(help: ArgumentHelp("The node names it may get a certificate for: NAME, PREFIX* or *.", valueName: "name"))
    var node: String

    @Option(help: ArgumentHelp("Valid for this long (e.g. 24h); default: until its line is removed.", valueName: "duration"))
    var ttl: String?

    @Option(help: "A comment for the line (who, why).")
    var comment: String?

    var scope: BootstrapToken.Scope? {
        let parsed = BootstrapTokenFile.parse("a00000.0000000000000000 node=\(node)")
        return parsed.errors.isEmpty ? parsed.tokens.first?.scope : nil
    }

    func validate() throws {
        guard !node.contains(where: \.isWhitespace), scope != nil else {
            throw ValidationError("--node must be a node name (lowercase RFC 1123), PREFIX* or *")
        }
        if let ttl, DurationText.parse(ttl).map({ $0 >= 1_000_000_000 }) != true {
            throw ValidationError("--ttl must be a duration of at least 1s, e.g. 24h")
        }
    }

    func run() throws {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        let expires = ttl.flatMap(DurationText.parse).map { Int64(now.tv_sec) + $0 / 1_000_000_000 }
        // The line is the secret: stdout only (redirect it into the token file or a Secret).
        print(BootstrapTokenFile.line(token: BootstrapToken.generate(), scope: scope!, expires: expires, comment: comment))
    }
}

/// `netobs certs token check`: what the controller would make of a token file.
struct CertsTokenCheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Check a bootstrap token file: list its tokens by ID and scope (never the secrets), and every bad line.")

    @Argument(help: ArgumentHelp("The token file.", valueName: "file"))
    var file: String

    func run() throws {
        let bytes: [UInt8]
        do {
            bytes = try FileBytes.read(file, what: "bootstrap token file", limit: 4 << 20)
        } catch let error as TLSError {
            throw CommandFailure(error.message)
        }
        let parsed = BootstrapTokenFile.parse(String(decoding: bytes, as: UTF8.self))
        for token in parsed.tokens { print(token.description) }
        for error in parsed.errors { Output.write("error: \(error)\n", to: 2) }
        print("\(parsed.tokens.count) tokens, \(parsed.errors.count) bad lines")
        if !parsed.errors.isEmpty { throw ExitCode(1) }
    }
}
