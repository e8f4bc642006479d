import Foundation
import NetobsAgentLink
import NetobsTLS
import NetobsWire

/// Real agent uplinks (spool, window, acks) under simulated node names, spools on tmpfs so the
/// only fsyncs on disk are the controller's.
struct SimulatedAgents {
    let uplinks: [AgentUplink]

    init(names: [String], certs: BenchCertificates, endpoint: @Sendable (TLSContext) -> ControllerEndpoint, spool: String) throws {
        uplinks = try names.map { name in
            AgentUplink(endpoint: endpoint(try certs.client(.agent, name: name)),
                        spool: try Spool(directory: spool + "/" + name, agentId: name),
                        node: AgentIdentity(nodeName: name, agentVersion: "fleet-bench", kernelRelease: "bench"),
                        backoff: Backoff(baseMs: 50, capMs: 1_000, floorMs: 10), log: { _ in })
        }
    }

    /// Starts them `wave` at a time, each wave connected before the next (a thousand handshakes
    /// at once would only measure the handshake queue).
    func connect(wave: Int = 50) async throws {
        for first in stride(from: 0, to: uplinks.count, by: wave) {
            let group = uplinks[first..<min(first + wave, uplinks.count)]
            group.forEach { $0.start() }
            try await until(60, "agents \(first)..< to connect") { group.allSatisfy { $0.stats.sessions > 0 } }
        }
    }

    /// Hands a batch to agent `i`'s spool, waiting while the spool is full.
    func submit(_ i: Int, _ records: [[UInt8]]) async throws {
        while try uplinks[i].submit(records: records) == nil { try await Task.sleep(for: .milliseconds(5)) }
    }

    func drain() async throws {
        for u in uplinks { guard await u.drain(timeoutMs: 300_000) else { throw BenchError("an agent did not drain") } }
    }

    func stop() async { for u in uplinks { await u.stop() } }
}

/// Seconds between two instants, as a Double.
enum FleetBenchTime { static func seconds(_ d: Duration) -> Double { Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18 } }
