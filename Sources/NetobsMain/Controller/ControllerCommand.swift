import Foundation
import ArgumentParser
import NetobsAgentLink
import NetobsAnalysis
import NetobsController
import NetobsHTTP
import NetobsLogging
import NetobsProbes
import NetobsTLS
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// `netobs controller`: accepts agents, consumers and operators over mutual TLS.
struct ControllerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "controller",
        abstract: "Run the controller: receive agents' records durably, stream them to consumers.",
        discussion: """
            Each agent's FlowBatches are appended to its log (segments DATA/agents/<agent>/batches-<first>.log) \
            and fsynced before they are acknowledged; a batch whose sequence number is already stored is \
            acknowledged again but not stored twice, so every record is kept exactly once across \
            restarts of either side. Retention drops the oldest whole segments past --retention-bytes \
            (all agents' logs together) or --retention-age, only once their batches were published to \
            consumers, and counts the drops per node on /metrics. When the disk is full, batches are not \
            acknowledged (agents keep them in their spools) and agents are held back until there is room. Consumers (`netobs tail`) get the records as they arrive, \
            grouped for a few milliseconds per consumer; the last --replay-records records are kept \
            in memory so that `netobs tail --last N` can show recent ones first.

            Operators push rules (`netobs rules push`, stored as DATA/rules/<version>.ruleset and sent \
            to every agent, now and when it connects) and program bundles (`netobs programs push`, \
            verified against --operator-key, stored in DATA/programs/, rolled out to canaries first \
            and rolled back when an agent refuses them). `netobs agents` lists the agents.

            With --bootstrap-token-file and --ca-key, agents without a certificate get one on the \
            bootstrap listener (--bootstrap-listen, default port 7444; TLS authenticating the \
            controller only): a token of the file allowed for their node name, and a CSR for CN = \
            that name, give a certificate valid --agent-cert-lifetime (OU=netobs-agent, nothing \
            else from the request). Removing a token's line revokes it; sessions end when their \
            certificate expires. See `netobs certs token`.

            With a topology source (--topology-file, --kubeconfig, --in-cluster) records reach \
            consumers joined with pods, namespaces, workloads, services and nodes. The analysis \
            engine runs on the live stream and publishes `kind: anomaly` records (closed ones also \
            to DATA/anomalies.jsonl).
            """)

    @Option(help: ArgumentHelp("Address to listen on.", valueName: "host:port"))
    var listen: String = "127.0.0.1:7443"

    @Option(help: ArgumentHelp("Directory for the durable per-agent logs (created if missing).", valueName: "dir"))
    var data: String

    @OptionGroup var tls: TLSFiles

    @OptionGroup var bootstrap: BootstrapOptions

    @Option(help: "Heartbeat interval announced to clients, in milliseconds.")
    var heartbeatMs: UInt32 = 5_000

    @OptionGroup var http: HTTPOptions

    @OptionGroup var retention: RetentionOptions

    @OptionGroup var topology: TopologyOptions

    @OptionGroup var log: LogOptions

    @Option(help: ArgumentHelp("Serve /healthz and /readyz on plain HTTP here for the kubelet (nothing else is served there). Off when not given.",
                               valueName: "host:port"))
    var healthListen: String?

    @Flag(help: "Do not run the analysis engine on the live stream (no anomaly records).")
    var noAnalysis = false

    @Option(help: ArgumentHelp("Analysis model from `netobs train` (defaults work without one).", valueName: "file"))
    var model: String?

    @Option(help: ArgumentHelp("The operator's Ed25519 public key (`netobs programs keygen`); without it, program bundles are refused.",
                               valueName: "pub.pem"))
    var operatorKey: String?

    @Option(help: "Share of agents (percent) that get a new program version first, unless the push says otherwise.")
    var canaryPercent = 10

    @Option(help: ArgumentHelp("Most recent records kept in memory for `netobs tail --last` (at most 32 MiB; 0: none).",
                               valueName: "n"))
    var replayRecords = StreamHub.Settings().replayRecords

    func validate() throws {
        guard ControllerEndpoint.parse(listen) != nil else { throw ValidationError("--listen must be HOST:PORT") }
        if let healthListen, ControllerEndpoint.parse(healthListen) == nil {
            throw ValidationError("--health-listen must be HOST:PORT, e.g. 0.0.0.0:8081")
        }
        guard (100...3_600_000).contains(heartbeatMs) else { throw ValidationError("--heartbeat-ms must be 100...3600000") }
        guard (1...100).contains(canaryPercent) else { throw ValidationError("--canary-percent must be 1...100") }
        guard (0...1_000_000).contains(replayRecords) else { throw ValidationError("--replay-records must be 0...1000000") }
    }

    func run() async throws {
        log.bootstrap()
        let (host, port) = ControllerEndpoint.parse(listen)!
        let context: TLSContext
        do {
            context = try tls.serverContext()
        } catch let error as TLSError {
            throw CommandFailure(error.message)
        }
        let bootstrapListener = try bootstrap.prepare(listenHost: host, tls: tls, log: .stderr)
        var config = Controller.Configuration(host: host, port: port, dataDirectory: data, tls: context)
        config.heartbeatIntervalMs = heartbeatMs
        config.canaryPercent = canaryPercent
        config.stream.replayRecords = replayRecords
        config.retention = try retention.retention()
        if let operatorKey {
            do {
                config.operatorKey = try VerifyingKey(file: operatorKey)
            } catch let error as TLSError {
                throw CommandFailure(error.message)
            }
        }
        let info: @Sendable (String) -> Void = { ControllerLog.stderr.info($0) }
        let analysisModel = try noAnalysis ? nil : RunDirectory.model(model)
        let (joiner, topologySource) = try topology.start(log: info)
        config.joiner = joiner
        signal(SIGPIPE, SIG_IGN)
        let parts = RunningParts(topologySource: topologySource)
        let configuration = config
        try await ControllerLifecycle.run(parts) {
            try await startParts(configuration, bootstrapListener: bootstrapListener, analysisModel: analysisModel, info: info, into: parts)
        }
    }

    /// Starts the controller, then what serves beside it, in order; each part is handed to
    /// `parts` as it starts (a part started after a stop request is stopped at once).
    private func startParts(_ config: Controller.Configuration, bootstrapListener: BootstrapOptions.Prepared?,
                            analysisModel: AnalysisModel?, info: @escaping @Sendable (String) -> Void,
                            into parts: RunningParts) async throws {
        let controller: Controller
        do {
            controller = try await Controller.start(config)
        } catch {
            throw CommandFailure("cannot start the controller on \(listen): \(error)")
        }
        await parts.adopt(controller) { await $0.stop() }
        if let bootstrapListener {
            let server = try await bootstrapListener.start()
            await parts.adopt(server) { await $0.stop() }
            let tokens = bootstrapListener.tokens
            await parts.adopt(ReloadSignal { tokens.reload() }) { $0.cancel() }
        }
        if let server = try await http.start(controller: controller, tls: tls) {
            await parts.adopt(server) { await $0.stop() }
        }
        if let healthListen {
            let (probeHost, probePort) = ControllerEndpoint.parse(healthListen)!
            let probes: ProbeServer
            do {
                // Alive while this process answers; ready once the listeners above are up.
                probes = try await ProbeServer.start(host: probeHost, port: probePort) { path in
                    ["/healthz", "/readyz"].contains(path) ? .health(nil) : nil
                }.get()
            } catch {
                throw CommandFailure("cannot listen on \(healthListen) for probes: \(error)")
            }
            await parts.adopt(probes) { try? await $0.stop().get() }
            ControllerLog.stderr.info("probes on http://\(healthListen) (/healthz, /readyz)")
        }
        if let analysisModel {
            let analysis = LiveAnalysis(hub: controller.hub, model: analysisModel, dataDirectory: data, log: info)
            await analysis.start()
            await parts.adopt(analysis) { await $0.stop() }
        }
    }
}

