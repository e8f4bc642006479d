import Foundation
import NIOCore
import Testing
import NetobsAgentLink
import NetobsController
import NetobsTLS
import NetobsWire

/// Real TLS on loopback: controller, agent uplinks with spools, consumers.
@Suite("delivery: every record exactly once, across restarts", .serialized)
struct DeliveryTests {
    let pki: PKI
    init() throws { pki = try PKI() }

    func uplink(port: Int, spool: String, agent: String = "node-1", log: LogLines = LogLines()) throws -> AgentUplink {
        let endpoint = ControllerEndpoint(host: "127.0.0.1", port: port, tls: try pki.clientContext(.agent, name: agent))
        return AgentUplink(endpoint: endpoint, spool: try Spool(directory: spool, agentId: agent),
                           node: AgentIdentity(nodeName: agent, agentVersion: "test", kernelRelease: "test"),
                           backoff: Backoff(baseMs: 20, capMs: 200, floorMs: 10), log: log.sink)
    }

    /// Sequences in the durable log: each exactly once, 1...n, with the records of each.
    func checkLog(_ store: AgentLogStore, agent: String, batches n: Int, perBatch: Int) throws {
        let entries = try store.entries(agentId: agent)
        #expect(entries.map(\.sequence) == (1...UInt64(n)).map { $0 })
        for e in entries { #expect(e.records == records(batch: Int(e.sequence), count: perBatch)) }
    }

    @Test("batches arrive once, in order, are acknowledged, and reach a consumer")
    func basicDelivery() async throws {
        let data = temporaryDirectory("data")
        let controller = try await startController(pki, data: data)
        let received = LogLines()
        let consumer = ConsumerStream(endpoint: ControllerEndpoint(host: "127.0.0.1", port: controller.port,
                                                                   tls: try pki.clientContext(.consumer)),
                                      log: { _ in }, onBatch: { b in for r in b.records { received.add(String(decoding: r, as: UTF8.self)) } })
        consumer.start()
        #expect(await eventually { controller.hub.count == 1 })
        let agent = try uplink(port: controller.port, spool: temporaryDirectory("spool"))
        agent.start()
        for i in 1...200 { #expect(try agent.submit(records: records(batch: i, count: 10)) == UInt64(i)) }
        #expect(await agent.drain(timeoutMs: 15_000))
        try checkLog(controller.store, agent: "node-1", batches: 200, perBatch: 10)
        #expect(controller.counters.storedRecords == 2_000)
        #expect(controller.counters.duplicateBatches == 0)
        #expect(await eventually { received.lines.count == 2_000 })
        #expect(Set(received.lines).count == 2_000)
        await agent.stop()
        await consumer.stop()
        await controller.stop()
    }

    @Test("controller stopped mid-stream and restarted on the same data dir: nothing lost or doubled")
    func controllerRestart() async throws {
        let data = temporaryDirectory("data")
        var controller = try await startController(pki, data: data)
        let port = controller.port
        let agent = try uplink(port: port, spool: temporaryDirectory("spool"))
        agent.start()
        var restarts = 0
        var duplicates = 0
        for i in 1...300 {
            #expect(try agent.submit(records: records(batch: i, count: 5)) == UInt64(i))
            if i % 100 == 50 {
                // Mid-stream: batches are in flight, some stored but not yet acknowledged. The
                // agent must have connected to this controller first, or the stop tests nothing.
                #expect(await eventually { agent.stats.sessions > restarts })
                await controller.stop()
                duplicates += controller.counters.duplicateBatches
                try await Task.sleep(for: .milliseconds(50))
                controller = try await startController(pki, data: data, port: port)
                restarts += 1
            }
        }
        #expect(await agent.drain(timeoutMs: 20_000))
        try checkLog(controller.store, agent: "node-1", batches: 300, perBatch: 5)
        #expect(restarts == 3)
        duplicates += controller.counters.duplicateBatches
        print("restart test: batches 300, records 1500, restarts \(restarts), duplicates refused \(duplicates), agent \(agent.stats)")
        #expect(agent.stats.sessions >= 4)
        await agent.stop()
        await controller.stop()
    }

    @Test("agent restarted on the same spool: numbering resumes, unacknowledged batches are resent")
    func agentRestart() async throws {
        let data = temporaryDirectory("data")
        let spool = temporaryDirectory("spool")
        let controller = try await startController(pki, data: data)
        let first = try uplink(port: controller.port, spool: spool)
        first.start()
        for i in 1...20 { try first.submit(records: records(batch: i, count: 4)) }
        #expect(await first.drain(timeoutMs: 10_000))
        await first.stop()
        // While the agent is down the controller is too; the next agent spools 21...40 unsent.
        let port = controller.port
        await controller.stop()
        let second = try uplink(port: port, spool: spool)
        second.start()
        for i in 21...40 { #expect(try second.submit(records: records(batch: i, count: 4)) == UInt64(i)) }
        await second.stop()
        // A third instance finds them in the spool and delivers them once the controller is back
        // (on a port of its own: a parallel test may have taken the old one meanwhile).
        let restarted = try await startController(pki, data: data)
        let third = try uplink(port: restarted.port, spool: spool)
        #expect(third.spool.pending.map(\.sequence) == (21...40).map { UInt64($0) })
        third.start()
        #expect(await third.drain(timeoutMs: 15_000))
        #expect(try third.submit(records: records(batch: 41, count: 4)) == 41)
        #expect(await third.drain(timeoutMs: 10_000))
        try checkLog(restarted.store, agent: "node-1", batches: 41, perBatch: 4)
        await third.stop()
        await restarted.stop()
    }

    @Test("a malformed frame gets an Error and a close; a roleless certificate is refused; others keep being served")
    func refusals() async throws {
        let log = LogLines()
        let controller = try await startController(pki, data: temporaryDirectory("data"), log: log)
        let agent = try uplink(port: controller.port, spool: temporaryDirectory("spool"))
        agent.start()
        try agent.submit(records: records(batch: 1, count: 1))
        #expect(await agent.drain(timeoutMs: 10_000))

        // Garbage where a frame header should be.
        let (garbage, raw) = try await RawClient.connect(try pki.clientContext(.agent), port: controller.port)
        try await garbage.writeAndFlush(ByteBuffer(string: "GET / HTTP/1.1\r\n\r\n"))
        #expect(await eventually { raw.closed })
        let error = raw.frames.compactMap { f -> ErrorMessage? in
            if case .error(let e)? = try? f.message() { return e } else { return nil }
        }.first
        #expect(error?.code == .malformedFrame)

        // A certificate with no netobs role: the TLS handshake itself fails (the server's refusal
        // may already be closing the connection when this write comes: then the write fails too).
        let (roleless, raw2) = try await RawClient.connect(try pki.clientContext(nil), port: controller.port)
        var hello = try encode(.hello(Hello(role: .agent)), correlationId: 1)
        try? await roleless.writeAndFlush(ByteBuffer(bytes: hello))
        #expect(await eventually { raw2.closed })
        #expect(raw2.frames.isEmpty)

        // A consumer certificate claiming to be an agent in Hello.
        let (liar, raw3) = try await RawClient.connect(try pki.clientContext(.consumer), port: controller.port)
        hello = try encode(.hello(Hello(role: .agent)), correlationId: 1)
        try await liar.writeAndFlush(ByteBuffer(bytes: hello))
        #expect(await eventually { raw3.closed })
        #expect(raw3.frames.compactMap { try? $0.message() }.contains {
            if case .error(let e) = $0 { e.code == .unauthorized } else { false }
        })

        // The agent is still served.
        try agent.submit(records: records(batch: 2, count: 1))
        #expect(await agent.drain(timeoutMs: 10_000))
        try checkLog(controller.store, agent: "node-1", batches: 2, perBatch: 1)
        await agent.stop()
        await controller.stop()
    }
}

@Suite("heartbeats")
struct HeartbeatTests {
    @Test("the controller sends heartbeats and drops a client silent for three intervals")
    func silentClientDropped() async throws {
        let pki = try PKI()
        let controller = try await startController(pki, data: temporaryDirectory("data"), heartbeatMs: 100)
        let (channel, raw) = try await RawClient.connect(try pki.clientContext(.consumer), port: controller.port)
        try await channel.writeAndFlush(ByteBuffer(bytes: try encode(.hello(Hello(role: .consumer)), correlationId: 1)))
        #expect(await eventually(5) { raw.closed })
        let messages = raw.frames.compactMap { try? $0.message() }
        #expect(messages.contains { if case .helloAccept = $0 { true } else { false } })
        #expect(messages.contains { if case .heartbeat = $0 { true } else { false } })
        #expect(messages.contains { if case .error(let e) = $0 { e.code == .heartbeatTimeout } else { false } })
        await controller.stop()
    }
}
