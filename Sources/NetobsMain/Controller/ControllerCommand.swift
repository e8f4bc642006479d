import Foundation
import ArgumentParser
import NetobsAgentLink
import NetobsController
import NetobsHTTP
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
        guard (100...3_600_000).contains(heartbeatMs) else { throw ValidationError("--heartbeat-ms must be 100...3600000") }
        guard (1...100).contains(canaryPercent) else { throw ValidationError("--canary-percent must be 1...100") }
        guard (0...1_000_000).contains(replayRecords) else { throw ValidationError("--replay-records must be 0...1000000") }
    }

    func run() async throws {
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
        let info: @Sendable (String) -> Void = { Output.write("netobs controller: info: \($0)\n", to: 2) }
        let analysisModel = try noAnalysis ? nil : RunDirectory.model(model)
        let (joiner, topologySource) = try topology.start(log: info)
        config.joiner = joiner
        signal(SIGPIPE, SIG_IGN)
        // Signals are handled before the controller says it listens (a signal sent on that line
        // must not be lost); each part is stopped when it exists by then.
        let parts = RunningParts()
        let stopping = StopSignals {
            await parts.bootstrap.withLock { $0 }?.stop()
            await parts.analysis.withLock { $0 }?.stop()
            await parts.http.withLock { $0 }?.stop()
            await parts.controller.withLock { $0 }?.stop()
            topologySource?.stop()
        }
        let controller: Controller
        do {
            controller = try await Controller.start(config)
        } catch {
            stopping.cancel()
            topologySource?.stop()
            throw CommandFailure("cannot start the controller on \(listen): \(error)")
        }
        parts.controller.withLock { $0 = controller }
        // A signal while it started found no controller to stop.
        if stopping.requested { await controller.stop() }
        var reload: ReloadSignal?
        do {
            if let bootstrapListener {
                let server = try await bootstrapListener.start()
                parts.bootstrap.withLock { $0 = server }
                if stopping.requested { await server.stop() }
                let tokens = bootstrapListener.tokens
                reload = ReloadSignal { tokens.reload() }
            }
        } catch {
            stopping.cancel()
            await controller.stop()
            topologySource?.stop()
            throw error
        }
        defer { reload?.cancel() }
        do {
            let server = try await http.start(controller: controller, tls: tls)
            parts.http.withLock { $0 = server }
        } catch {
            stopping.cancel()
            await controller.stop()
            topologySource?.stop()
            throw error
        }
        if let analysisModel {
            let analysis = LiveAnalysis(hub: controller.hub, model: analysisModel, dataDirectory: data, log: info)
            await analysis.start()
            parts.analysis.withLock { $0 = analysis }
        }
        try await controller.wait()
        stopping.cancel()
    }
}

/// What `netobs controller` started beside the controller, for the signal handler to stop.
final class RunningParts: Sendable {
    let controller = Mutex<Controller?>(nil)
    let http = Mutex<HTTPServer?>(nil)
    let analysis = Mutex<LiveAnalysis?>(nil)
    let bootstrap = Mutex<BootstrapServer?>(nil)
}

/// SIGINT and SIGTERM stop the controller cleanly (listener and sessions closed, pending disk
/// writes finished), even when the shell started it with SIGINT ignored.
final class StopSignals {
    private let sources: [any DispatchSourceSignal]
    private let received: Received

    /// A signal came (set before `stop` runs).
    var requested: Bool { received.value.withLock { $0 } }

    final class Received: Sendable { let value = Mutex(false) }

    init(_ stop: @escaping @Sendable () async -> Void) {
        let received = Received()
        self.received = received
        sources = [SIGINT, SIGTERM].map { sig in
            signal(sig, SIG_IGN) // delivered to the dispatch source instead
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            source.setEventHandler {
                FileHandle.standardError.write(Data("netobs controller: info: stopping (signal \(sig))\n".utf8))
                received.value.withLock { $0 = true }
                Task { await stop() }
            }
            source.resume()
            return source
        }
    }

    func cancel() { sources.forEach { $0.cancel() } }
}
