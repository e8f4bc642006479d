import Foundation
import Testing
@testable import NetobsHTTP
import NetobsAgentLink
import NetobsController
import NetobsWire

private let portable = [
    HookStatus(hook: "inet_sock_set_state", tier: "portable", programType: "raw_tracepoint"),
    HookStatus(hook: "tcp_retransmit_skb", tier: "portable", programType: "raw_tracepoint", metricsOff: ["tcp_tlp"],
               reason: "no tracing: tail loss probes not told apart"),
    HookStatus(hook: "kfree_skb", tier: "off", programType: "", metricsOff: ["tcp_drop", "tcp_tlp"], reason: "attach failed"),
]

@Suite("metrics: agent hook tiers")
struct AgentHookExpositionTests {
    func exposition(_ reports: [AgentHookReport]) -> String {
        var own = ControllerSelfMetrics()
        own.agentHooks = reports
        return MetricsStore().exposition(own)
    }

    @Test func oneSeriesPerHookOnItsTierAndTheDistinctMetricsOff() {
        let text = exposition([
            AgentHookReport(node: "node-b", hooks: [HookStatus(hook: "inet_sock_set_state", tier: "off", programType: ""),
                                                    HookStatus(hook: "inet_sock_set_state", tier: "btf", programType: "tp_btf")]),
            AgentHookReport(node: "node-a", hooks: portable),
            AgentHookReport(node: "node-old", hooks: []),
        ])
        let tiers = text.split(separator: "\n").filter { $0.hasPrefix("netobs_agent_hook_tier{") }
        #expect(tiers == [
            #"netobs_agent_hook_tier{exported_node="node-a",hook="inet_sock_set_state",tier="portable"} 1"#,
            #"netobs_agent_hook_tier{exported_node="node-a",hook="kfree_skb",tier="off"} 1"#,
            #"netobs_agent_hook_tier{exported_node="node-a",hook="tcp_retransmit_skb",tier="portable"} 1"#,
            // A hook sent twice: the last entry is its tier.
            #"netobs_agent_hook_tier{exported_node="node-b",hook="inet_sock_set_state",tier="btf"} 1"#,
        ])
        #expect(text.contains("# TYPE netobs_agent_hook_tier gauge\n"))
        #expect(text.contains("# TYPE netobs_agent_metrics_off gauge\n"))
        // tcp_tlp is off through two hooks: counted once.
        #expect(text.contains(#"netobs_agent_metrics_off{exported_node="node-a"} 2"# + "\n"))
        #expect(text.contains(#"netobs_agent_metrics_off{exported_node="node-b"} 0"# + "\n"))
        // An agent that sent no report has no series (0 would claim nothing is off).
        #expect(!text.contains("node-old"))
    }

    @Test("promtool check metrics accepts the hook series, with and without reports")
    func promtoolAccepts() async throws {
        for text in [exposition([]), exposition([AgentHookReport(node: #"we"ird\n"#, hooks: portable),
                                                AgentHookReport(node: "node-2", hooks: portable)])] {
            let (status, output) = try await promtoolCheck(text)
            #expect(status == 0, "promtool: \(output)")
            #expect(output.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty, "promtool lint: \(output)")
        }
    }
}

/// The series come from the controller's registry: a real agent's Hello, then another one.
@Suite("metrics: agent hook tiers from a real agent", .serialized)
struct AgentHookEndpointTests {
    let pki: FilePKI
    init() throws { pki = try FilePKI() }

    func agent(_ running: Running, hooks: [HookStatus]) throws -> AgentUplink {
        AgentUplink(endpoint: ControllerEndpoint(host: "127.0.0.1", port: running.controller.port,
                                                 tls: try pki.clientContext(.agent, name: "node-1")),
                    spool: try Spool(directory: temporaryDirectory("spool"), agentId: "node-1"),
                    node: AgentIdentity(nodeName: "node-1", agentVersion: "test", kernelRelease: "test"),
                    backoff: Backoff(baseMs: 20, capMs: 200, floorMs: 10), hooks: hooks, log: { _ in })
    }

    func hookLines(_ curl: Curl) async throws -> [String] {
        let metrics = try await curl.get("/metrics")
        #expect(metrics.status == 200)
        #expect(try await promtoolCheck(metrics.body).status == 0)
        return metrics.body.split(separator: "\n").map(String.init)
            .filter { $0.hasPrefix("netobs_agent_hook_tier{") || $0.hasPrefix("netobs_agent_metrics_off{") }
    }

    @Test("GET /metrics shows the latest report of each agent; a new Hello replaces the old series")
    func latestReportOnly() async throws {
        let running = try await Running.start(pki, security: { _ in .plaintextLoopback })
        defer { Task { await running.stop() } }
        let curl = Curl(pki: pki, port: running.http.port, plaintext: true)
        let first = try agent(running, hooks: portable)
        first.start()
        #expect(await eventually { running.controller.agents.status(of: "node-1")?.connected == true })
        #expect(try await hookLines(curl) == [
            #"netobs_agent_hook_tier{exported_node="node-1",hook="inet_sock_set_state",tier="portable"} 1"#,
            #"netobs_agent_hook_tier{exported_node="node-1",hook="kfree_skb",tier="off"} 1"#,
            #"netobs_agent_hook_tier{exported_node="node-1",hook="tcp_retransmit_skb",tier="portable"} 1"#,
            #"netobs_agent_metrics_off{exported_node="node-1"} 2"#,
        ])
        #expect(try await curl.get("/metrics").body.contains(#"netobs_agent_connected{exported_node="node-1"} 1"#))
        await first.stop()
        #expect(await eventually { running.controller.agents.status(of: "node-1")?.connected == false })
        // Gone, and said so: the series of "agent disconnected".
        #expect(try await curl.get("/metrics").body.contains(#"netobs_agent_connected{exported_node="node-1"} 0"#))

        let upgraded = try agent(running, hooks: [HookStatus(hook: "inet_sock_set_state", tier: "btf", programType: "tp_btf"),
                                                  HookStatus(hook: "kfree_skb", tier: "btf", programType: "tp_btf")])
        upgraded.start()
        #expect(await eventually { running.controller.agents.status(of: "node-1")?.connected == true })
        #expect(try await hookLines(curl) == [
            #"netobs_agent_hook_tier{exported_node="node-1",hook="inet_sock_set_state",tier="btf"} 1"#,
            #"netobs_agent_hook_tier{exported_node="node-1",hook="kfree_skb",tier="btf"} 1"#,
            #"netobs_agent_metrics_off{exported_node="node-1"} 0"#,
        ])
        await upgraded.stop()
    }
}
