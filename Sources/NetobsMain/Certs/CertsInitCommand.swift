import ArgumentParser
import NetobsTLS

/// `netobs certs init`: a CA and all certificates of a local setup, in one directory.
struct CertsInitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init",
        abstract: "Make a local CA, the controller's certificate and one client certificate per role.",
        discussion: """
            Writes into DIR: ca.pem + ca-key.pem (the CA), controller.pem + controller-key.pem \
            (server certificate for --hosts), and agent, operator and consumer certificates with \
            their keys. Keys are EC P-256, PKCS#8 PEM, unencrypted, mode 0600: keep ca-key.pem \
            away from the cluster. Existing files are only replaced with --force.

            Check a certificate with: openssl verify -CAfile DIR/ca.pem DIR/agent.pem
            """)

    @Option(help: ArgumentHelp("Directory to write the files into (created if missing).", valueName: "dir"))
    var dir: String

    @Option(help: ArgumentHelp("Names and addresses of the controller, comma-separated; IP addresses become IP SANs.",
                               valueName: "host,..."))
    var hosts: String = "127.0.0.1,::1,localhost"

    @Option(help: ArgumentHelp("Node name of the agent certificate (its CN): the controller accepts an agent only under the name in its certificate. Default: this host's name. More nodes: `netobs certs agent`.",
                               valueName: "name"))
    var agentNode: String?

    @Option(help: "Validity of every certificate, in days.")
    var days: Int = 365

    @Flag(help: "Replace existing files.")
    var force = false

    func validate() throws {
        if parsedHosts.isEmpty { throw ValidationError("--hosts needs at least one name or address") }
        if days <= 0 { throw ValidationError("--days must be positive") }
    }

    var parsedHosts: [String] {
        hosts.split(separator: ",").map { String($0.filter { !$0.isWhitespace }) }.filter { !$0.isEmpty }
    }

    func run() throws {
        let files: [LocalPKI.File]
        do {
            files = try LocalPKI.create(in: dir, hosts: parsedHosts, days: days, force: force,
                                        agentNode: agentNode ?? HostName.current())
        } catch let error as TLSError {
            throw CommandFailure(error.message)
        }
        // Paths and kinds only: never key material.
        for file in files {
            print("wrote \(file.path)  (\(file.what), mode \(String(file.mode, radix: 8)))")
        }
        print("controller names: \(parsedHosts.joined(separator: ", ")); valid \(days) days")
    }
}
