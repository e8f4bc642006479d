import Foundation
import ArgumentParser
import NetobsController
import NetobsDemo
import NetobsTLS
import NetobsAgentLink

/// `netobs controller --bootstrap-token-file FILE --ca-key KEY`: the listener where agents
/// without a certificate get one (PROTOCOL.md §5.1).
struct BootstrapOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Bootstrap tokens, one per line: `ID.SECRET node=NAME|node=PREFIX*|node=* [expires=YYYY-MM-DDTHH:MM:SSZ] [# comment]` (`netobs certs token create` prints one). Agents presenting one get a certificate for their node; removing a line revokes it. Re-read when it changes and at SIGHUP.",
                               valueName: "file"))
    var bootstrapTokenFile: String?

    @Option(help: ArgumentHelp("Where the bootstrap listener accepts agents without a certificate (TLS, server certificate only). Default: the --listen host, port 7444.",
                               valueName: "host:port"))
    var bootstrapListen: String?

    @Option(help: ArgumentHelp("The CA's private key, to sign agent certificates (with --bootstrap-token-file only). Must be readable by its owner only (0600/0400; 0440 with the group ours, as a Kubernetes fsGroup mount gives). Its certificate is the one of the CA bundle (--ca) it belongs to.",
                               valueName: "file"))
    var caKey: String?

    @Option(help: "Validity of the agent certificates it signs, e.g. 24h, 90m (5s to 8760h). Agents renew at 2/3 of it; a session ends when its certificate expires, so this bounds how long a revoked agent stays connected.")
    var agentCertLifetime = "24h"

    var lifetimeSeconds: Int? {
        DurationText.parse(agentCertLifetime).map { Int($0 / 1_000_000_000) }
    }

    func validate() throws {
        if bootstrapTokenFile == nil {
            if caKey != nil { throw ValidationError("--ca-key is used only with --bootstrap-token-file") }
            if bootstrapListen != nil { throw ValidationError("--bootstrap-listen is used only with --bootstrap-token-file") }
            return
        }
        guard caKey != nil else {
            throw ValidationError("--bootstrap-token-file needs --ca-key FILE: the controller signs the agents' certificates with the CA key")
        }
        if let bootstrapListen, ControllerEndpoint.parse(bootstrapListen) == nil {
            throw ValidationError("--bootstrap-listen must be HOST:PORT")
        }
        guard let seconds = lifetimeSeconds, (5...8_760 * 3_600).contains(seconds) else {
            throw ValidationError("--agent-cert-lifetime must be a duration from 5s to 8760h (e.g. 24h)")
        }
    }

    /// Everything the listener needs, read and checked (CA key, tokens, certificate) before the
    /// controller listens anywhere; nil without --bootstrap-token-file.
    func prepare(listenHost: String, tls: TLSFiles, log: ControllerLog) throws -> Prepared? {
        guard let bootstrapTokenFile, let caKey, let lifetime = lifetimeSeconds else { return nil }
        let (host, port) = bootstrapListen.flatMap(ControllerEndpoint.parse) ?? (listenHost, 7444)
        do {
            let paths = try tls.paths(role: "controller")
            let authority = try IssuingCA.load(bundleFile: paths.ca, keyFile: caKey)
            let tokens = try BootstrapTokenStore(path: bootstrapTokenFile, log: log)
            let context = try TLSContext(configuration: .serverWithoutClientCertificates(
                certificateChain: .file(paths.cert), privateKey: .file(paths.key)))
            let enrollment = AgentEnrollment(authority: authority, tokens: tokens, lifetime: lifetime)
            return Prepared(configuration: .init(host: host, port: port, tls: context, enrollment: enrollment), log: log)
        } catch let error as TLSError {
            throw CommandFailure(error.message)
        }
    }

    struct Prepared {
        let configuration: BootstrapServer.Configuration
        let log: ControllerLog
        var tokens: BootstrapTokenStore { configuration.enrollment.tokens }

        func start() async throws -> BootstrapServer {
            do {
                return try await BootstrapServer.start(configuration, log: log)
            } catch {
                throw CommandFailure("cannot start the bootstrap listener on \(configuration.host):\(configuration.port): \(error)")
            }
        }
    }
}

/// SIGHUP re-reads the bootstrap token file (it is also re-read whenever it changes).
final class ReloadSignal: @unchecked Sendable {  // a dispatch source is thread-safe
    private let source: any DispatchSourceSignal

    init(_ reload: @escaping @Sendable () -> Void) {
        signal(SIGHUP, SIG_IGN)
        source = DispatchSource.makeSignalSource(signal: SIGHUP, queue: .global())
        source.setEventHandler(handler: reload)
        source.resume()
    }

    func cancel() { source.cancel() }
}
