import NetobsAgent
import NetobsAgentLink
import NetobsTLS

/// The controller endpoint of `netobs-agent --controller`: with fixed files from --certs, or
/// with --bootstrap-token-file a certificate the agent gets (and renews) from the controller.
enum AgentEndpoint {
    struct Options {
        var controller: (host: String, port: Int)
        var controllerName: String?
        var certs: String
        var caFile: String?
        var bootstrapTokenFile: String?
        var bootstrapController: (host: String, port: Int)?
        var node: String
    }

    static func make(_ o: Options) throws -> ControllerEndpoint {
        let dir = o.certs.hasSuffix("/") ? o.certs : o.certs + "/"
        let ca = o.caFile ?? dir + "ca.pem"
        guard let tokenFile = o.bootstrapTokenFile else {
            let tls = try TLSContext(configuration: .client(trustRoots: .file(ca), certificateChain: .file(dir + "agent.pem"),
                                                            privateKey: .file(dir + "agent-key.pem")))
            return ControllerEndpoint(host: o.controller.host, port: o.controller.port, tls: tls, serverName: o.controllerName)
        }
        let bootstrap = o.bootstrapController ?? (o.controller.host, 7444)
        let credentials = AgentCredentials(
            settings: .init(node: o.node, directory: o.certs, caFile: ca, tokenFile: tokenFile,
                            bootstrapHost: bootstrap.host, bootstrapPort: bootstrap.port,
                            serverName: o.controllerName ?? o.controller.host),
            log: { AgentLog.info($0) })
        try credentials.start()  // its renewal task keeps it for the life of the process
        return ControllerEndpoint(host: o.controller.host, port: o.controller.port, credentials: credentials.slot,
                                  serverName: o.controllerName)
    }
}
