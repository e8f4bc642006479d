import ArgumentParser
import NetobsAgentLink
import NetobsController
import NetobsHTTP
import NetobsRecords
import NetobsTLS

/// `netobs controller`'s HTTP endpoint: record streams, /metrics, /healthz.
struct HTTPOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Serve GET /v1/records (NDJSON or server-sent events), /metrics and /healthz here, with mutual TLS (consumer or operator certificates). Off when not given.",
                               valueName: "host:port"))
    var httpListen: String?

    @Flag(help: "Serve the HTTP endpoint without TLS; allowed only on 127.0.0.1 or ::1 (a local Prometheus, the demo).")
    var httpPlaintextLoopback = false

    @Flag(help: "Do not serve the web dashboard (/, /pods/..., /flows) on the HTTP endpoint.")
    var noDashboard = false

    @Option(help: "Pods with their own /metrics series; further pods are folded into exported_pod=\"other\".")
    var metricsMaxPods = 1_000

    @Option(help: ArgumentHelp("A pod's (or edge's) /metrics series leave after this long without a record, freeing its slot (0: never).",
                               valueName: "duration"))
    var metricsPodGrace = "10m"

    @Option(help: "Client→server edges with their own /metrics series; further edges are folded into \"other\".")
    var metricsMaxEdges = 5_000

    func validate() throws {
        guard metricsMaxPods > 0, metricsMaxEdges > 0 else { throw ValidationError("--metrics-max-pods and --metrics-max-edges must be positive") }
        guard metricsPodGrace == "0" || TimeBound.duration(metricsPodGrace) != nil else {
            throw ValidationError("--metrics-pod-grace must be a duration (10m, 1h30m) or 0")
        }
        guard let httpListen else {
            if httpPlaintextLoopback { throw ValidationError("--http-plaintext-loopback needs --http-listen") }
            return
        }
        guard let (host, _) = ControllerEndpoint.parse(httpListen) else { throw ValidationError("--http-listen must be HOST:PORT") }
        if httpPlaintextLoopback {
            do {
                try HTTPSecurity.checkPlaintext(host: host)
            } catch {
                throw ValidationError(error.description)
            }
        }
    }

    func start(controller: Controller, tls: TLSFiles) async throws -> HTTPServer? {
        guard let httpListen, let (host, port) = ControllerEndpoint.parse(httpListen) else { return nil }
        let security: HTTPSecurity
        if httpPlaintextLoopback {
            security = .plaintextLoopback
        } else {
            do {
                security = .mutualTLS(try tls.serverContext(acceptedClientRoles: HTTPSecurity.clientRoles))
            } catch let error as TLSError {
                throw CommandFailure(error.message)
            }
        }
        var config = HTTPServer.Configuration(host: host, port: port, security: security)
        let graceNs = metricsPodGrace == "0" ? 0 : TimeBound.duration(metricsPodGrace) ?? 0
        config.metricsLimits = MetricsStore.Limits(maxPods: metricsMaxPods, maxEdges: metricsMaxEdges,
                                                   idleGrace: .nanoseconds(Int64(clamping: graceNs)))
        config.dashboard = !noDashboard
        do {
            return try await HTTPServer.start(config, controller: controller) { line in
                Output.write("netobs controller: info: \(line)\n", to: 2)
            }
        } catch {
            throw CommandFailure("cannot start the HTTP endpoint on \(httpListen): \(error)")
        }
    }
}
