import Foundation
import Testing
import NetobsAgentLink
import NetobsController
import NetobsTLS
import NetobsWire

/// `netobs programs push` semantics with simulated agents over real TLS: verification at the
/// controller, canaries first, stop and roll back on the first refusal.
@Suite("program rollout", .serialized)
struct ProgramRolloutTests {
    let pki: PKI
    let key: SigningKey
    init() throws {
        pki = try PKI()
        key = try SigningKey.generate()
    }

    let object: [UInt8] = [0x7f, 0x45, 0x4c, 0x46] + Array(repeating: 0xAB, count: 64)

    func bundle(_ version: String, canary: UInt8? = nil, signer: SigningKey? = nil, name: String = "l4") throws -> ProgramBundle {
        var b = try BundleSignature.sign(object: object + Array(version.utf8), name: name, version: version, key: signer ?? key)
        b.canaryPercent = canary
        return b
    }

    func push(_ b: ProgramBundle, port: Int) async throws -> Message {
        try await OperatorRequest.send(.programBundle(b), to: ControllerEndpoint(
            host: "127.0.0.1", port: port, tls: try pki.clientContext(.operator)))
    }

    /// Five agents node-a … node-e; `refuse` decides per node, object and version.
    func agents(port: Int, events: LogLines,
                refuse: @escaping @Sendable (String, String, String) -> Bool = { _, _, _ in false }) throws -> [SimulatedAgent] {
        try ["node-a", "node-b", "node-c", "node-d", "node-e"].map { node in
            try SimulatedAgent(node: node, port: port, tls: try pki.clientContext(.agent, name: node),
                               operatorKey: key.publicKey, events: events,
                               load: { b in refuse(node, b.name, b.version) ? "0: (b7) r0 = 0\nR1 invalid mem access 'scalar'\n" : nil })
        }
    }

    /// The nodes that got `version` ("1.0": an l4 bundle; "l7 1.0": an l7 one), in arrival order.
    func received(_ events: LogLines, _ version: String) -> [String] {
        events.lines.filter { $0.hasSuffix("bundle \(version)") }.map { String($0.split(separator: " ")[0]) }
    }

    @Test("a good bundle reaches the canary first, then every agent; later agents get it on connect")
    func canaryThenAll() async throws {
        let data = temporaryDirectory("data")
        let controller = try await startController(pki, data: data, operatorKey: key.publicKey)
        let events = LogLines()
        let fleet = try agents(port: controller.port, events: events)
        fleet.forEach { $0.start() }
        #expect(await eventually { controller.agents.statuses.filter(\.connected).count == 5 })

        guard case .programStatus(let status) = try await push(try bundle("1.0", canary: 20), port: controller.port) else {
            Issue.record("no ProgramStatus")
            return
        }
        #expect(status.state == .loaded && status.version == "1.0")
        let order = received(events, "1.0")
        #expect(order.first == "node-a")          // 20 % of 5: one canary, the first by name
        #expect(Set(order) == Set(fleet.map(\.node)))
        #expect(order.count == 5)
        #expect(fleet.allSatisfy { $0.program == "1.0" })
        #expect(controller.agents.statuses.allSatisfy { $0.programVersion == "1.0" })
        #expect(controller.programs.active(named: "l4")?.bundle.version == "1.0")

        let late = try SimulatedAgent(node: "node-f", port: controller.port, tls: try pki.clientContext(.agent, name: "node-f"),
                                      operatorKey: key.publicKey, events: events)
        late.start()
        #expect(await eventually { late.program == "1.0" })
        for a in fleet + [late] { await a.stop() }
        await controller.stop()
    }

    @Test("a bundle a canary's verifier refuses stops the rollout and moved agents go back to the previous version")
    func refusalRollsBack() async throws {
        let controller = try await startController(pki, data: temporaryDirectory("data"), operatorKey: key.publicKey)
        let events = LogLines()
        // node-b (the second canary at 40 %) refuses 2.0.
        let fleet = try agents(port: controller.port, events: events, refuse: { node, _, version in node == "node-b" && version == "2.0" })
        fleet.forEach { $0.start() }
        #expect(await eventually { controller.agents.statuses.filter(\.connected).count == 5 })
        guard case .programStatus(let first) = try await push(try bundle("1.0", canary: 100), port: controller.port) else {
            Issue.record("no ProgramStatus")
            return
        }
        #expect(first.state == .loaded)

        guard case .programStatus(let status) = try await push(try bundle("2.0", canary: 40), port: controller.port) else {
            Issue.record("no ProgramStatus")
            return
        }
        #expect(status.state == .rejected)
        #expect(status.verifierLog.contains("invalid mem access"))
        #expect(status.error?.contains("node-b") == true)
        // Both canaries got it (their logs may trail the status on a busy machine); the rest never did.
        #expect(await eventually { Set(received(events, "2.0")) == ["node-a", "node-b"] })
        #expect(await eventually { fleet.allSatisfy { $0.program == "1.0" } })
        #expect(await eventually { events.lines.filter { $0 == "node-a bundle 1.0" }.count == 2 }) // rolled back
        #expect(Set(received(events, "2.0")) == ["node-a", "node-b"])
        #expect(await eventually { controller.agents.status(of: "node-a")?.programVersion == "1.0" })
        #expect(controller.agents.status(of: "node-b")?.detail.contains("rejected") == true)
        #expect(controller.programs.active(named: "l4")?.bundle.version == "1.0")
        for a in fleet { await a.stop() }
        await controller.stop()
    }

    @Test("unsigned, tampered and wrongly signed bundles are refused by the controller; agents get nothing")
    func badBundlesRefused() async throws {
        let controller = try await startController(pki, data: temporaryDirectory("data"), operatorKey: key.publicKey)
        let events = LogLines()
        let fleet = try agents(port: controller.port, events: events)
        fleet.forEach { $0.start() }
        #expect(await eventually { controller.agents.statuses.filter(\.connected).count == 5 })

        var unsigned = try bundle("3.0")
        unsigned.signature = [UInt8](repeating: 0, count: ProgramBundle.signatureSize)
        var tampered = try bundle("3.0")
        tampered.object[10] ^= 0xFF
        let wrongKey = try bundle("3.0", signer: try SigningKey.generate())
        for (b, code, text) in [(unsigned, ErrorCode.badSignature, "bad signature"),
                                (tampered, .digestMismatch, "tampered"),
                                (wrongKey, .badSignature, "wrong key")] {
            guard case .error(let e) = try await push(b, port: controller.port) else {
                Issue.record("expected an Error for \(text)")
                continue
            }
            #expect(e.code == code)
            #expect(e.message.contains(text))
        }
        #expect(events.lines.isEmpty)
        #expect(controller.programs.actives.isEmpty)
        for a in fleet { await a.stop() }
        await controller.stop()
    }

    @Test("the rollout state machine: canary count, order, rollback targets")
    func rolloutCounts() {
        #expect([(0, 10), (1, 10), (5, 20), (10, 10), (11, 10), (5, 100), (3, 1)].map {
            Controller.canaryCount(agents: $0.0, percent: $0.1)
        } == [0, 1, 1, 1, 2, 5, 1])
    }
}
