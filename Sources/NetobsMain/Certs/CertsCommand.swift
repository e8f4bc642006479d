import ArgumentParser

/// `netobs certs`: certificates for mutual TLS.
struct CertsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "certs",
        abstract: "Make certificates for mutual TLS between controller, agents and clients.",
        discussion: """
            Every connection to the controller is mutual TLS 1.3. A client's role is carried in its \
            certificate as the subject organizational unit: OU=netobs-agent, OU=netobs-operator or \
            OU=netobs-consumer; the controller refuses certificates without one.
            """,
        subcommands: [CertsInitCommand.self, CertsAgentCommand.self, CertsTokenCommand.self])
}
