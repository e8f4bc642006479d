import ArgumentParser
import Foundation
import NetobsRecords
import NetobsWire
#if canImport(Glibc)
import Glibc
#endif

/// `netobs rules push FILE`: the controller stores the rules as a new version and sends them to
/// every agent, which applies them through its kernel filter maps (no program reload).
struct RulesPushCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "push",
        abstract: "Validate a rules file and make it the rule set of every agent (operator role).",
        discussion: """
            FILE has the format of `netobs-agent --rules` (JSON), or the same keys in YAML:
              ports: {mode: exclude, values: [8080, "9000-9100"]}  # include|exclude, local or remote port
              cgroups: {mode: include, values: [12345]}  # cgroup v2 ids (pods), or by identity:
              pods: {mode: include, namespaces: [shop], names: [shop/web-0], labels: {app: web}}
              protocols: [tcp, udp]
              sample_every: 10                           # keep 1 flow in 10
              l7: true
              l7_sample_every: 100                       # http/dns exemplars: 1 in 100 per key (0: none)
              l7_slow_ms: 1000                           # ... and every exchange this slow (0: off)
            A pod matches `pods` when every selector given matches. The controller resolves it \
            against its topology source into the pods of each agent's node, sends each agent its own \
            set and follows pods as they come and go; the agent selects those pods' cgroups.
            The controller stores it as the next version (DATA/rules/), sends it to every connected \
            agent and to agents that connect later. With --wait, waits until every connected agent \
            has applied it (or refused it) and prints each one's answer.
            """)

    @Argument(help: ArgumentHelp("Rules file (JSON or YAML).", valueName: "file"))
    var file: String

    @OptionGroup var connection: OperatorConnection

    @Flag(help: "Wait until every connected agent has applied the new version (or refused it).")
    var wait = false

    func run() async throws {
        let rules = try RulesFile.load(file)
        let set: RuleSet
        do {
            set = try rules.ruleSet(version: 0)
        } catch {
            throw CommandFailure("rules file \(file): \(error.message)")
        }
        guard case .ruleSetAck(let ack) = try await connection.request(.ruleSet(set)) else {
            throw CommandFailure("controller \(connection.controller) answered the rule set with something else")
        }
        guard ack.accepted else { throw CommandFailure("controller refused the rules: \(ack.detail)") }
        print("rules version \(ack.ruleSetVersion): \(rules.summary); \(ack.detail)")
        if wait { try await waitForAgents(version: ack.ruleSetVersion) }
    }

    private func waitForAgents(version: UInt64) async throws {
        let deadline = Date.now.addingTimeInterval(Double(connection.timeout))
        while true {
            let connected = try await connection.agents().agents.filter(\.connected)
            let pending = connected.filter { $0.rulesVersion < version && !$0.detail.contains("rules \(version) refused") }
            if pending.isEmpty || Date.now > deadline {
                for a in connected {
                    let state = a.rulesVersion >= version ? "applied" : (pending.contains(a) ? "no answer yet" : a.detail)
                    print("  \(a.nodeName): \(state)")
                }
                if !pending.isEmpty { throw CommandFailure("\(pending.count) agents did not answer within \(connection.timeout) s") }
                if connected.contains(where: { $0.rulesVersion < version }) { throw CommandFailure("some agents refused the rules") }
                return
            }
            try await Task.sleep(for: .milliseconds(200))
        }
    }
}
