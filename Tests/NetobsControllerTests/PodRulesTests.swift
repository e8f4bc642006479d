import Foundation
import Testing
import NetobsAgentLink
import NetobsController
import NetobsRecords
import NetobsTLS
import NetobsTopology
import NetobsWire

/// Rules by Kubernetes identity: the controller resolves a pod selector against the topology
/// into each node's pod UIDs, sends every agent its own set, and follows pods as they come and go.
@Suite("rules by pod identity", .serialized)
struct PodRulesTests {
    static let pods = [
        TopologyPod(name: "web-0", namespace: "shop", uid: "uid-web-0", node: "node-a", labels: ["app": "web"]),
        TopologyPod(name: "db-0", namespace: "shop", uid: "uid-db-0", node: "node-a", labels: ["app": "db"]),
        TopologyPod(name: "web-1", namespace: "shop", uid: "uid-web-1", node: "node-b", labels: ["app": "web", "tier": "front"]),
        TopologyPod(name: "web-2", namespace: "staging", uid: "uid-web-2", node: "node-b", labels: ["app": "web"]),
    ]

    func rules(_ json: String) throws -> RuleSet { try CollectionRules.parse(json).ruleSet(version: 3) }

    func uids(_ set: RuleSet) throws -> CollectionRules.Filter<String>? { try CollectionRules(set).podUIDs }

    @Test("a selector becomes the UIDs of the node's pods it matches: namespace, NS/NAME and labels all must match")
    func resolution() throws {
        let web = try rules(#"{"pods": {"mode": "include", "namespaces": ["shop"], "labels": {"app": "web"}}, "ports": {"mode": "exclude", "values": [22]}}"#)
        let a = NodeRuleSets.resolve(web, node: "node-a", pods: Self.pods)
        let b = NodeRuleSets.resolve(web, node: "node-b", pods: Self.pods)
        #expect(try uids(a) == .init(mode: .include, values: ["uid-web-0"]))
        #expect(try uids(b) == .init(mode: .include, values: ["uid-web-1"]))
        #expect(a.version == 3 && b.version == 3)
        // Everything else in the set is kept; the selector itself is not sent.
        let applied = try CollectionRules(a)
        #expect(applied.ports == .init(mode: .exclude, values: [22]) && applied.pods == nil && applied.needsController == nil)
        #expect(a.rules.allSatisfy { !$0.selectsPods })

        // A node without a selected pod collects nothing under an include selector.
        let none = NodeRuleSets.resolve(web, node: "node-c", pods: Self.pods)
        #expect(try uids(none) == .init(mode: .include, values: []))

        let named = try rules(#"{"pods": {"mode": "exclude", "names": ["shop/db-0", "staging/web-2"]}}"#)
        #expect(try uids(NodeRuleSets.resolve(named, node: "node-a", pods: Self.pods)) == .init(mode: .exclude, values: ["uid-db-0"]))
        #expect(try uids(NodeRuleSets.resolve(named, node: "node-b", pods: Self.pods)) == .init(mode: .exclude, values: ["uid-web-2"]))
        let front = try rules(#"{"pods": {"mode": "include", "labels": {"app": "web", "tier": "front"}}}"#)
        #expect(try uids(NodeRuleSets.resolve(front, node: "node-b", pods: Self.pods))?.values == ["uid-web-1"])

        // No selector: the set goes out as it is.
        let plain = try rules(#"{"ports": {"mode": "include", "values": [80]}}"#)
        #expect(NodeRuleSets.resolve(plain, node: "node-a", pods: Self.pods) == plain)
    }

    @Test("each agent gets its node's pods; a pod that comes or goes re-sends the same version to its node only")
    func followsPods() async throws {
        let pki = try PKI()
        let key = try SigningKey.generate()
        let store = TopologyStore()
        store.replace(all: Self.pods)
        let log = LogLines()
        let controller = try await startController(pki, data: temporaryDirectory("data"), log: log,
                                                   joiner: TopologyJoiner(store: store))
        let events = LogLines()
        let agents = try ["node-a", "node-b"].map {
            try SimulatedAgent(node: $0, port: controller.port, tls: try pki.clientContext(.agent, name: $0),
                               operatorKey: key.publicKey, events: events)
        }
        for agent in agents { agent.start() }
        #expect(await eventually { controller.agents.statuses.filter(\.connected).count == 2 })

        let set = try rules(#"{"pods": {"mode": "include", "namespaces": ["shop"]}}"#)
        let ack = try await OperatorRequest.send(.ruleSet(set), to: ControllerEndpoint(
            host: "127.0.0.1", port: controller.port, tls: try pki.clientContext(.operator)))
        guard case .ruleSetAck(let ack) = ack else { Issue.record("no RuleSetAck: \(ack)"); return }
        #expect(ack.accepted && ack.ruleSetVersion == 1, "\(ack.detail)")
        let (a, b) = (agents[0], agents[1])
        #expect(await eventually { a.rules?.podUIDs?.values == ["uid-web-0", "uid-db-0"] && b.rules?.podUIDs?.values == ["uid-web-1"] })

        // A new shop pod on node-a, a staging pod on node-b (not selected): node-a alone gets a new set.
        store.upsert(TopologyPod(name: "cart-0", namespace: "shop", uid: "uid-cart-0", node: "node-a"))
        store.upsert(TopologyPod(name: "cart-9", namespace: "staging", uid: "uid-cart-9", node: "node-b"))
        #expect(await eventually(5) { a.rules?.podUIDs?.values == ["uid-web-0", "uid-db-0", "uid-cart-0"] })
        // A pod deleted on node-b: it is no longer selected there.
        store.delete(TopologyPod.self, ObjectKey(namespace: "shop", name: "web-1"))
        #expect(await eventually(5) { b.rules?.podUIDs?.values == [] })
        #expect(events.lines.filter { $0 == "node-a rules 1" }.count == 2)
        #expect(events.lines.filter { $0 == "node-b rules 1" }.count == 2)
        #expect(log.lines.contains { $0.contains("rules version 1 follow the pods on node node-a: 3 selected now") }, "\(log.lines)")
        #expect(controller.agents.statuses.allSatisfy { $0.rulesVersion == 1 })
        for agent in agents { await agent.stop() }
        await controller.stop()
    }

    @Test("a controller without a topology source refuses rules that select pods, and says why")
    func refusedWithoutTopology() async throws {
        let pki = try PKI()
        let controller = try await startController(pki, data: temporaryDirectory("data"))
        let answer = try await OperatorRequest.send(.ruleSet(try rules(#"{"pods": {"mode": "include", "namespaces": ["shop"]}}"#)),
                                                    to: ControllerEndpoint(host: "127.0.0.1", port: controller.port,
                                                                           tls: try pki.clientContext(.operator)))
        guard case .error(let error) = answer else { Issue.record("accepted: \(answer)"); return }
        #expect(error.message.contains("no topology source"), "\(error.message)")
        #expect(controller.rules.current == nil)
        await controller.stop()
    }
}
