import Foundation
import NIOCore
import Testing
import NetobsAgentLink
import NetobsController
import NetobsRecords
import NetobsTLS
import NetobsWire

/// Rules from an operator to every agent, over real TLS on loopback.
@Suite("rules push", .serialized)
struct RulesPushTests {
    let pki: PKI
    let key: SigningKey
    init() throws {
        pki = try PKI()
        key = try SigningKey.generate()
    }

    func agent(_ node: String, port: Int, events: LogLines) throws -> SimulatedAgent {
        try SimulatedAgent(node: node, port: port, tls: try pki.clientContext(.agent, name: node),
                           operatorKey: key.publicKey, events: events)
    }

    func push(_ set: RuleSet, port: Int) async throws -> Message {
        try await OperatorRequest.send(.ruleSet(set), to: ControllerEndpoint(host: "127.0.0.1", port: port,
                                                                              tls: try pki.clientContext(.operator)))
    }

    @Test("a pushed rule set is stored, versioned, applied by every agent (also one that connects later) and survives a restart")
    func pushToAll() async throws {
        let data = temporaryDirectory("data")
        var controller = try await startController(pki, data: data)
        let events = LogLines()
        let a = try agent("node-a", port: controller.port, events: events)
        let b = try agent("node-b", port: controller.port, events: events)
        a.start()
        b.start()
        #expect(await eventually { controller.agents.statuses.filter(\.connected).count == 2 })

        var rules = try CollectionRules.parse(#"{"ports": {"mode": "exclude", "values": [9000, 9001]}, "sample_every": 2}"#)
        guard case .ruleSetAck(let ack) = try await push(try rules.ruleSet(version: 0), port: controller.port) else {
            Issue.record("no RuleSetAck")
            return
        }
        #expect(ack.accepted && ack.ruleSetVersion == 1)
        #expect(await eventually { a.rules == rules && b.rules == rules })
        #expect(await eventually { controller.agents.statuses.allSatisfy { $0.rulesVersion == 1 } })

        // Losses the agent reports (its loss records) are totalled per agent.
        try a.uplink.submit(records: [Array(#"{"kind":"loss","ts_ns":1,"node":"node-a","reason":"spool_full","count":17,"total":17}"#.utf8),
                                      Array(#"{"kind":"loss","ts_ns":2,"node":"node-a","reason":"ringbuf","count":5}"#.utf8)])
        #expect(await a.uplink.drain(timeoutMs: 10_000))
        #expect(controller.agents.status(of: "node-a")?.lostRecords == 22)
        #expect(controller.agents.status(of: "node-a")?.ackedSequence == 1)
        #expect(controller.agents.status(of: "node-b")?.lostRecords == 0)

        // A late agent gets the rules in force when it connects.
        let c = try agent("node-c", port: controller.port, events: events)
        c.start()
        #expect(await eventually { c.rules == rules && controller.agents.status(of: "node-c")?.rulesVersion == 1 })

        // Restart: version 1 is still in force, and the next push is version 2.
        let port = controller.port
        await controller.stop()
        controller = try await startController(pki, data: data, port: port)
        #expect(controller.rules.current?.version == 1)
        rules.l7 = false
        guard case .ruleSetAck(let ack2) = try await push(try rules.ruleSet(version: 0), port: port) else {
            Issue.record("no RuleSetAck")
            return
        }
        #expect(ack2.ruleSetVersion == 2)
        #expect(await eventually { [a, b, c].allSatisfy { $0.rules == rules } })
        #expect(await eventually { controller.agents.statuses.filter(\.connected).allSatisfy { $0.rulesVersion == 2 } })
        for x in [a, b, c] { await x.stop() }
        await controller.stop()
    }

    @Test("rules no agent can apply exactly are refused with the reason; the version in force stays")
    func unappliableRefused() async throws {
        let controller = try await startController(pki, data: temporaryDirectory("data"))
        // Two samplings: the agents' filter maps hold one.
        let set = RuleSet(version: 7, rules: [Rule(id: "web", ports: [PortRange(port: 80)], samplingPpm: 1_000),
                                              Rule(id: "rest", samplingPpm: 500_000)])
        guard case .error(let e) = try await push(set, port: controller.port) else {
            Issue.record("expected an Error")
            return
        }
        #expect(e.code == .rejected)
        #expect(e.message.contains("cannot be applied exactly"), "\(e.message)")
        #expect(controller.rules.current == nil)
        await controller.stop()
    }

    @Test("an agent certificate cannot push rules: unauthorized, and the other agents carry on")
    func agentCannotPush() async throws {
        let controller = try await startController(pki, data: temporaryDirectory("data"))
        let events = LogLines()
        let honest = try agent("node-a", port: controller.port, events: events)
        honest.start()
        #expect(await eventually { controller.agents.status(of: "node-a")?.connected == true })

        // As an operator, with an agent certificate: refused at the Hello.
        let agentEndpoint = ControllerEndpoint(host: "127.0.0.1", port: controller.port,
                                               tls: try pki.clientContext(.agent, name: "node-x"))
        let rules = try CollectionRules.parse(#"{"protocols": []}"#).ruleSet(version: 0)
        await #expect(throws: OperatorRequest.Failure.self) {
            _ = try await OperatorRequest.send(.ruleSet(rules), to: agentEndpoint)
        }

        // Inside an agent session: refused as unauthorized, and the session closed.
        let (channel, raw) = try await RawClient.connect(try pki.clientContext(.agent, name: "node-x"), port: controller.port)
        let hello = Hello(role: .agent, agent: AgentIdentity(nodeName: "node-x", agentVersion: "t", kernelRelease: "t"))
        try await channel.writeAndFlush(ByteBuffer(bytes: try encode(.hello(hello), correlationId: 1)))
        #expect(await eventually { raw.frames.count >= 1 })
        try await channel.writeAndFlush(ByteBuffer(bytes: try encode(.ruleSet(rules), correlationId: 2)))
        #expect(await eventually { raw.closed })
        #expect(raw.frames.compactMap { try? $0.message() }.contains {
            if case .error(let e) = $0 { e.code == .unauthorized } else { false }
        })
        #expect(controller.rules.current == nil)
        #expect(events.lines.filter { $0.contains("rules") }.isEmpty)

        // The honest agent is still served.
        try honest.uplink.submit(records: records(batch: 1, count: 2))
        #expect(await honest.uplink.drain(timeoutMs: 10_000))
        #expect(try controller.store.entries(agentId: "node-a").count == 1)
        await honest.stop()
        await controller.stop()
    }

    @Test("an agent whose Hello names another node than its certificate is refused")
    func identityBound() async throws {
        let controller = try await startController(pki, data: temporaryDirectory("data"))
        let (channel, raw) = try await RawClient.connect(try pki.clientContext(.agent, name: "node-a"), port: controller.port)
        let hello = Hello(role: .agent, agent: AgentIdentity(nodeName: "node-b", agentVersion: "t", kernelRelease: "t"))
        try await channel.writeAndFlush(ByteBuffer(bytes: try encode(.hello(hello), correlationId: 1)))
        #expect(await eventually { raw.closed })
        let error = raw.frames.compactMap { f -> ErrorMessage? in
            if case .error(let e)? = try? f.message() { e } else { nil }
        }.first
        #expect(error?.code == .unauthorized)
        #expect(error?.message.contains("node-b") == true)
        #expect(controller.agents.statuses.isEmpty)
        await controller.stop()
    }
}
