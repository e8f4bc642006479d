import Foundation
import Testing
import NetobsAgentLink
import NetobsController
@testable import NetobsMain
import NetobsTLS
import NetobsTestSupport
import NetobsWire

/// A host that refuses `tracing`: portable hooks, one off.
private let portableHooks = [
    HookStatus(hook: "inet_sock_set_state", tier: "portable", programType: "raw_tracepoint"),
    HookStatus(hook: "cgroup_skb", tier: "portable", programType: "cgroup_skb"),
    HookStatus(hook: "kfree_skb", tier: "off", programType: "", metricsOff: ["tcp_drop"], reason: "attach failed: ENOENT"),
]
/// The same node after an upgrade: tracing loads there now.
private let btfHooks = [
    HookStatus(hook: "inet_sock_set_state", tier: "btf", programType: "tp_btf"),
    HookStatus(hook: "cgroup_skb", tier: "portable", programType: "cgroup_skb"),
]

/// Hook reports over real TLS: the agent's Hello, the controller's registry, `netobs agents`.
@Suite("hook reports: agent Hello to registry to netobs agents", .serialized)
struct HookReportTests {
    let pki: PKI
    init() throws { pki = try PKI() }

    private func uplink(_ node: String, port: Int, hooks: [HookStatus], log: LogLines = LogLines()) throws -> AgentUplink {
        AgentUplink(endpoint: ControllerEndpoint(host: "127.0.0.1", port: port, tls: try pki.clientContext(.agent, name: node)),
                    spool: try Spool(directory: temporaryDirectory("spool-\(node)"), agentId: node),
                    node: AgentIdentity(nodeName: node, agentVersion: "test", kernelRelease: "test"),
                    backoff: Backoff(baseMs: 20, capMs: 200, floorMs: 10), hooks: hooks, log: log.sink)
    }

    private func agentList(port: Int) async throws -> AgentList {
        let answer = try await OperatorRequest.send(.agentListRequest(AgentListRequest()),
                                                    to: ControllerEndpoint(host: "127.0.0.1", port: port,
                                                                           tls: try pki.clientContext(.operator)))
        guard case .agentList(let list) = answer else { throw UnexpectedAnswer(answer: answer) }
        return list
    }

    private struct UnexpectedAnswer: Error { let answer: Message }

    @Test("the registry keeps the report of the latest Hello, also after a disconnect, and AgentList carries it")
    func registryKeepsTheLatestReport() async throws {
        let controller = try await startController(pki, data: temporaryDirectory("data"))
        let first = try uplink("node-1", port: controller.port, hooks: portableHooks)
        let silent = try uplink("node-2", port: controller.port, hooks: [])
        first.start()
        silent.start()
        #expect(await eventually { controller.agents.statuses.filter(\.connected).count == 2 })
        #expect(controller.agents.status(of: "node-1")?.hooks == portableHooks)
        #expect(controller.agents.status(of: "node-2")?.hooks == [])
        #expect(try await agentList(port: controller.port).agents.map(\.hooks) == [portableHooks, []])

        // Gone: the last report stays, marked disconnected.
        await first.stop()
        #expect(await eventually { controller.agents.status(of: "node-1")?.connected == false })
        #expect(controller.agents.status(of: "node-1")?.hooks == portableHooks)
        let list = try await agentList(port: controller.port)
        #expect(list.agents.first { $0.nodeName == "node-1" }.map { !$0.connected && $0.hooks == portableHooks } == true)

        // Back with another report: it replaces the old one (a hook sent twice counts once, the last).
        let again = try uplink("node-1", port: controller.port,
                               hooks: [HookStatus(hook: "inet_sock_set_state", tier: "off", programType: "")] + btfHooks)
        again.start()
        #expect(await eventually {
            controller.agents.status(of: "node-1").map { $0.connected && $0.hooks == btfHooks } == true
        })
        await again.stop()
        await silent.stop()
        await controller.stop()
    }

    @Test("a report that would not let the Hello fit the pre-handshake limit is left out, and the agent still connects")
    func oversizedReportIsLeftOut() async throws {
        let controller = try await startController(pki, data: temporaryDirectory("data"))
        let log = LogLines()
        let wordy = (0..<Limits.hooks).map {
            HookStatus(hook: "hook-\($0)", tier: "off", programType: "", reason: String(repeating: "r", count: Limits.text))
        }
        let agent = try uplink("node-1", port: controller.port, hooks: wordy, log: log)
        #expect(agent.hooks.isEmpty)
        #expect(log.lines.contains { $0.contains("hook report left out") })
        #expect(try uplink("node-1", port: controller.port, hooks: Array(repeating: portableHooks[0], count: 65)).hooks.isEmpty)
        #expect(try uplink("node-1", port: controller.port, hooks: portableHooks).hooks == portableHooks)
        agent.start()
        #expect(await eventually { controller.agents.status(of: "node-1")?.connected == true })
        #expect(controller.agents.status(of: "node-1")?.hooks == [])
        await agent.stop()
        await controller.stop()
    }

    @Test("netobs agents shows the report: a HOOKS column, and every hook in --json beside the keys it had")
    func agentsCommandShowsTheReport() async throws {
        let controller = try await startController(pki, data: temporaryDirectory("data"))
        let agent = try uplink("node-1", port: controller.port, hooks: portableHooks)
        agent.start()
        #expect(await eventually { controller.agents.status(of: "node-1")?.connected == true })
        let common = ["--controller", "127.0.0.1:\(controller.port)", "--certs", try pki.operatorCertsDirectory()]

        let table = try await runAgentsCommand(common).split(separator: "\n")
        try #require(table.count == 2, "\(table)")
        #expect(table[0].contains("  HOOKS  "))
        #expect(table[1].contains("portable 1 off"))

        let line = try await runAgentsCommand(common + ["--json"]).trimmingCharacters(in: .whitespacesAndNewlines)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        #expect(Set(object.keys) == AgentsJSONShape.keys)
        let hooks = try #require(object["hooks"] as? [[String: Any]])
        #expect(hooks.count == 3)
        #expect(hooks.map { Set($0.keys) } == Array(repeating: AgentsJSONShape.hookKeys, count: 3))
        #expect(hooks[2]["hook"] as? String == "kfree_skb" && hooks[2]["tier"] as? String == "off")
        #expect(hooks[2]["program_type"] as? String == "" && hooks[2]["metrics_off"] as? [String] == ["tcp_drop"])
        #expect(hooks[2]["reason"] as? String == "attach failed: ENOENT")
        #expect(hooks[0]["program_type"] as? String == "raw_tracepoint")
        await agent.stop()
        await controller.stop()
    }
}

enum AgentsJSONShape {
    /// The keys `netobs agents --json` had before hooks, which must stay, plus `hooks` and `program_versions`.
    static let keys: Set = ["node", "identity", "connected", "program_version", "rules_version", "detail",
                            "acked_sequence", "seen_sequence", "lag_batches", "lost_records", "counters", "hooks",
                            "program_versions"]
    static let hookKeys: Set = ["hook", "tier", "program_type", "metrics_off", "reason"]
}

@Suite("netobs agents: the HOOKS summary and the JSON hooks")
struct AgentsFormatTests {
    private func hooks(_ tiers: String...) -> [HookStatus] {
        tiers.enumerated().map { HookStatus(hook: "h\($0.offset)", tier: $0.element, programType: "") }
    }

    @Test func hooksCellSumsUpTheTiers() {
        #expect(HookSummary.cell([]) == "-")
        #expect(HookSummary.cell(hooks("btf", "btf")) == "btf")
        #expect(HookSummary.cell(hooks("portable", "portable", "portable")) == "portable")
        #expect(HookSummary.cell(hooks("portable", "btf", "btf", "portable", "btf", "portable", "portable"))
                    == "mixed(3 btf, 4 portable)")
        #expect(HookSummary.cell(hooks("portable", "btf", "off", "btf", "portable", "btf", "portable", "portable"))
                    == "mixed(3 btf, 4 portable) 1 off")
        #expect(HookSummary.cell(hooks("btf", "off", "btf")) == "btf 1 off")
        #expect(HookSummary.cell(hooks("off", "off")) == "2 off")
        // A tier a newer agent reports is counted by its name, after the known ones.
        #expect(HookSummary.cell(hooks("kprobe", "portable", "btf")) == "mixed(1 btf, 1 portable, 1 kprobe)")
    }

    @Test func tableHasAHooksColumnBeforeDetail() throws {
        let list = AgentList(timestampNs: 0, agents: [
            AgentStatus(nodeName: "node-1", identity: "node-1", connected: false, detail: "why", hooks: portableHooks),
            AgentStatus(nodeName: "node-2", identity: "node-2", connected: true),
        ])
        let lines = AgentsFormat.table(list).split(separator: "\n").map(String.init)
        try #require(lines.count == 3)
        #expect(lines[0].split(separator: " ").suffix(3) == ["LOST", "HOOKS", "DETAIL"])
        #expect(lines[1].hasSuffix("portable 1 off  why"))
        #expect(lines[2].hasSuffix("  -"))
    }

    @Test func jsonHasEveryHookAndTheOldKeys() throws {
        let json = AgentsFormat.json(AgentStatus(nodeName: "n", identity: "n", connected: true, hooks: portableHooks), now: 0)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        #expect(Set(object.keys) == AgentsJSONShape.keys)
        let hooks = try #require(object["hooks"] as? [[String: Any]])
        #expect(hooks.compactMap { $0["hook"] as? String } == ["inet_sock_set_state", "cgroup_skb", "kfree_skb"])
        #expect(hooks.compactMap { $0["metrics_off"] as? [String] } == [[], [], ["tcp_drop"]])
        let none = AgentsFormat.json(AgentStatus(nodeName: "n", identity: "n", connected: true), now: 0)
        #expect(none.contains(#""hooks":[]"#))
    }
}
