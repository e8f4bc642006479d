import ArgumentParser
import NetobsTLS
#if canImport(Glibc)
import Glibc
#endif

/// `netobs certs agent`: a certificate directory for one more agent node.
struct CertsAgentCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "agent",
        abstract: "Make an agent certificate for one node, signed by the CA of `netobs certs init`.",
        discussion: """
            The controller binds an agent to its certificate: the node name in the agent's Hello \
            (netobs-agent --node, default the host name) must be the certificate's CN. Writes \
            OUT/ca.pem, OUT/agent.pem and OUT/agent-key.pem; start that node's agent with --certs OUT.
            """)

    @Option(help: ArgumentHelp("Directory made by `netobs certs init` (ca.pem and ca-key.pem are read).", valueName: "dir"))
    var dir: String

    @Option(help: ArgumentHelp("The agent's node name (the certificate's CN).", valueName: "name"))
    var node: String

    @Option(help: ArgumentHelp("Directory to write the agent's files into (created if missing).", valueName: "dir"))
    var out: String

    @Option(help: "Validity, in days.")
    var days: Int = 365

    func validate() throws {
        if node.isEmpty || node.utf8.count > 253 { throw ValidationError("--node must be 1 to 253 bytes") }
        if days <= 0 { throw ValidationError("--days must be positive") }
    }

    func run() throws {
        do {
            for file in try LocalPKI.issueAgent(caDirectory: dir, node: node, into: out, days: days) {
                print("wrote \(file.path)  (\(file.what), mode \(String(file.mode, radix: 8)))")
            }
        } catch let error as TLSError {
            throw CommandFailure(error.message)
        }
    }
}

enum HostName {
    /// The name `netobs-agent` uses for its node by default.
    static func current() -> String {
        var buf = [CChar](repeating: 0, count: 256)
        gethostname(&buf, buf.count)
        return String(decoding: buf.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
