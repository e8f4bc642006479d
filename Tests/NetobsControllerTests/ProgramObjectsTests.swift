import Foundation
import Testing
import NetobsController
import NetobsWire
import NetobsWireNIO

/// One active bundle per kernel object (l4, l7) with simulated agents over real TLS: rollouts
/// and rollbacks stay within their object, a new session gets every object, unknown names are
/// refused. Part of the rollout suite (same helpers, run one at a time).
extension ProgramRolloutTests {
    func loaded(_ b: ProgramBundle, port: Int) async throws {
        guard case .programStatus(let status) = try await push(b, port: port) else {
            Issue.record("no ProgramStatus for \(b.name) \(b.version)")
            return
        }
        #expect(status.state == .loaded, "\(b.name) \(b.version): \(status.error ?? "")")
    }

    @Test("an l7 a canary refuses rolls back to the previous l7 only; l4's active bundle and agents are untouched")
    func l7RefusalRollsBackL7Only() async throws {
        let controller = try await startController(pki, data: temporaryDirectory("data"), operatorKey: key.publicKey)
        let events = LogLines()
        // node-b (the second canary at 40 %) refuses l7 7.2.
        let fleet = try agents(port: controller.port, events: events,
                               refuse: { node, name, version in node == "node-b" && name == "l7" && version == "7.2" })
        fleet.forEach { $0.start() }
        #expect(await eventually { controller.agents.statuses.filter(\.connected).count == 5 })
        try await loaded(try bundle("1.0", canary: 100), port: controller.port)
        try await loaded(try bundle("7.1", canary: 100, name: "l7"), port: controller.port)
        #expect(controller.agents.statuses.allSatisfy {
            $0.programVersions == [ProgramVersion(name: "l4", version: "1.0"), ProgramVersion(name: "l7", version: "7.1")]
                && $0.programVersion == "1.0"
        })

        guard case .programStatus(let status) = try await push(try bundle("7.2", canary: 40, name: "l7"), port: controller.port) else {
            Issue.record("no ProgramStatus")
            return
        }
        #expect(status.state == .rejected && status.name == "l7" && status.version == "7.2")
        #expect(status.error?.contains("rolling back node-a to the previous l7") == true, "\(status.error ?? "")")
        #expect(await eventually { Set(received(events, "l7 7.2")) == ["node-a", "node-b"] })
        #expect(await eventually { events.lines.filter { $0 == "node-a bundle l7 7.1" }.count == 2 }) // rolled back
        #expect(await eventually { fleet.allSatisfy { $0.program("l7") == "7.1" } })
        // Nothing of l4 moved: each agent got 1.0 once, from its rollout, and runs it still.
        #expect(received(events, "1.0").sorted() == fleet.map(\.node))
        #expect(fleet.allSatisfy { $0.program("l4") == "1.0" })
        #expect(controller.programs.active(named: "l4")?.bundle.version == "1.0")
        #expect(controller.programs.active(named: "l7")?.bundle.version == "7.1")
        #expect(await eventually { controller.agents.status(of: "node-a")?.programVersion(of: "l7") == "7.1" })
        #expect(controller.agents.status(of: "node-a")?.programVersion == "1.0")
        let refused = controller.agents.status(of: "node-b")
        #expect(refused?.detail.hasPrefix("program l7 7.2 rejected: ") == true, "\(refused?.detail ?? "")")
        #expect(refused?.programVersions == [ProgramVersion(name: "l4", version: "1.0"), ProgramVersion(name: "l7", version: "7.1")])
        for a in fleet { await a.stop() }
        await controller.stop()
    }

    @Test("a bundle naming an object agents do not load is refused before it is stored")
    func unknownObjectRefused() async throws {
        let data = temporaryDirectory("data")
        let controller = try await startController(pki, data: data, operatorKey: key.publicKey)
        let events = LogLines()
        let fleet = try agents(port: controller.port, events: events)
        fleet.forEach { $0.start() }
        #expect(await eventually { controller.agents.statuses.filter(\.connected).count == 5 })
        guard case .error(let e) = try await push(try bundle("1.0", name: "l9"), port: controller.port) else {
            Issue.record("expected an Error")
            return
        }
        #expect(e.code == .rejected)
        #expect(e.message == "program bundle names object 'l9'; agents load: l4, l7")
        #expect(try DurableFile.list(data + "/programs").isEmpty)
        #expect(controller.programs.actives.isEmpty)
        #expect(events.lines.isEmpty)
        for a in fleet { await a.stop() }
        await controller.stop()
    }

    @Test("an agent that connects gets the active bundle of every object, and netobs agents shows both versions")
    func newSessionGetsEveryObject() async throws {
        let controller = try await startController(pki, data: temporaryDirectory("data"), operatorKey: key.publicKey)
        // No agents yet: each rollout completes at once and its bundle becomes its object's active one.
        try await loaded(try bundle("1.0", name: "l4"), port: controller.port)
        try await loaded(try bundle("7.1", name: "l7"), port: controller.port)
        #expect(controller.programs.actives.map(\.bundle.name) == ["l4", "l7"])

        let events = LogLines()
        let late = try SimulatedAgent(node: "node-f", port: controller.port, tls: try pki.clientContext(.agent, name: "node-f"),
                                      operatorKey: key.publicKey, events: events)
        late.start()
        #expect(await eventually { late.program("l4") == "1.0" && late.program("l7") == "7.1" })
        #expect(Set(events.lines) == ["node-f bundle 1.0", "node-f bundle l7 7.1"])
        #expect(await eventually { controller.agents.status(of: "node-f")?.programVersions.count == 2 })

        let common = ["--controller", "127.0.0.1:\(controller.port)", "--certs", try pki.operatorCertsDirectory()]
        let table = try await runAgentsCommand(common)
        #expect(table.contains("  l4 1.0, l7 7.1  "), "\(table)")
        let line = try await runAgentsCommand(common + ["-o", "jsonl"]).trimmingCharacters(in: .whitespacesAndNewlines)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        #expect(object["program_versions"] as? [String: String] == ["l4": "1.0", "l7": "7.1"])
        #expect(object["program_version"] as? String == "1.0")
        await late.stop()
        await controller.stop()
    }
}
