import NetobsAgent
import NetobsAgentLink
import NetobsBuildInfo
import NetobsProbes

/// `--health-listen`: /healthz (alive: flushed recently), /readyz (flushed once) and /metrics
/// (the agent's own series) on plain HTTP, for kubelet probes and a node-local scrape.
enum AgentProbeListener {
    static func start(_ address: String, health: AgentHealth, maxAgeNs: UInt64) throws -> ProbeServer {
        guard let (host, port) = ControllerEndpoint.parse(address) else {
            throw ProbeListenError("--health-listen must be HOST:PORT, not \(address)")
        }
        let server: ProbeServer
        do {
            server = try ProbeServer.start(host: host, port: port) { path in
                let state = health.snapshot
                switch path {
                case "/healthz": return .health(state.liveness(nowUnixNs: Clock.realtimeNs(), maxAgeNs: maxAgeNs))
                case "/readyz": return .health(state.readiness)
                case "/metrics":
                    return ProbeResponse(status: 200, contentType: PrometheusText.contentType,
                                         body: state.exposition(version: BuildInfo.version))
                default: return nil
                }
            }.wait()
        } catch {
            throw ProbeListenError("cannot listen on \(address) for probes: \(error)")
        }
        AgentLog.info("probes on http://\(address) (/healthz, /readyz, /metrics)")
        return server
    }

    struct ProbeListenError: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }
}
