import ArgumentParser
import NetobsTLS

/// `--certs DIR` or `--ca/--cert/--key`, as `netobs certs init` names the files.
struct TLSFiles: ParsableArguments {
    @Option(help: ArgumentHelp("Directory made by `netobs certs init` (ca.pem, <role>.pem, <role>-key.pem).", valueName: "dir"))
    var certs: String?

    @Option(help: ArgumentHelp("CA bundle (default: DIR/ca.pem).", valueName: "file"))
    var ca: String?

    @Option(help: ArgumentHelp("Own certificate chain (default: DIR/<role>.pem).", valueName: "file"))
    var cert: String?

    @Option(help: ArgumentHelp("Own private key (default: DIR/<role>-key.pem).", valueName: "file"))
    var key: String?

    func paths(role: String) throws -> (ca: String, cert: String, key: String) {
        func pick(_ explicit: String?, _ name: String, _ flag: String) throws -> String {
            if let explicit { return explicit }
            guard let certs else { throw ValidationError("give --certs DIR or \(flag)") }
            return (certs.hasSuffix("/") ? certs : certs + "/") + name
        }
        return (try pick(ca, "ca.pem", "--ca"), try pick(cert, "\(role).pem", "--cert"),
                try pick(key, "\(role)-key.pem", "--key"))
    }

    func serverContext(acceptedClientRoles: Set<NetobsRole> = NetobsRole.clientRoles) throws -> TLSContext {
        let p = try paths(role: "controller")
        return try TLSContext(configuration: .server(trustRoots: .file(p.ca), certificateChain: .file(p.cert),
                                                     privateKey: .file(p.key), acceptedClientRoles: acceptedClientRoles))
    }

    func clientContext(role: String) throws -> TLSContext {
        let p = try paths(role: role)
        return try TLSContext(configuration: .client(trustRoots: .file(p.ca), certificateChain: .file(p.cert),
                                                     privateKey: .file(p.key)))
    }
}
