import Foundation
import NIOCore
import NIOPosix
import NetobsController
import NetobsTLS
import NetobsWire
import Testing

/// Many agents at once, and the controller's ingest rate (the rate is measured, never asserted:
/// `scripts/bench-controller.sh` runs the measurement at size and writes bench/results-controller.json).
@Suite("controller at scale", .serialized)
struct ScaleTests {
    @Test("1,000 agents connected at once, each pushing batches: every batch stored once, in sequence")
    func thousandAgents() async throws {
        let pki = try PKI()
        let controller = try await startController(pki, data: temporaryDirectory("data"), heartbeatMs: 30_000)
        let agents = 1_000, batches = 5, perBatch = 20
        // One certificate per agent: the controller binds node names to certificate CNs.
        let contexts = try (0..<agents).map { try pki.clientContext(.agent, name: "node-\($0)") }
        let rows = records(batch: 0, count: perBatch)
        // All connect first (handshakes 50 at a time: TLS gives each 10 s), then all push at once.
        let go = MultiThreadedEventLoopGroup.singleton.next().makePromise(of: Void.self)
        var sessions: [BatchPusher.Session] = []
        for wave in stride(from: 0, to: agents, by: 50) {
            let batch = try await withThrowingTaskGroup(of: BatchPusher.Session.self) { group in
                for i in wave..<min(wave + 50, agents) {
                    group.addTask {
                        let s = try await BatchPusher.connect(node: "node-\(i)", port: controller.port, tls: contexts[i],
                                                              batches: batches, records: rows, window: 2, go: go.futureResult)
                        try await s.accepted.get()
                        return s
                    }
                }
                return try await group.reduce(into: [BatchPusher.Session]()) { $0.append($1) }
            }
            sessions += batch
        }
        #expect(controller.agents.statuses.filter(\.connected).count == agents)
        go.succeed()
        var acked: [Int] = []
        for s in sessions { acked.append(try await s.done.get()) }
        #expect(controller.agents.statuses.filter(\.connected).count == agents)   // nobody dropped meanwhile
        for s in sessions { s.channel.close(promise: nil) }
        #expect(acked == Array(repeating: batches, count: agents))
        #expect(controller.counters.storedRecords == agents * batches * perBatch)
        #expect(controller.counters.duplicateBatches == 0)
        for i in stride(from: 0, to: agents, by: 97) {
            let entries = try controller.store.entries(agentId: "node-\(i)")
            #expect(entries.map(\.sequence) == (1...UInt64(batches)).map { $0 })
            #expect(entries.allSatisfy { $0.records == rows })
        }
        #expect(controller.agents.statuses.count == agents)
        #expect(controller.agents.statuses.allSatisfy { $0.ackedSequence == UInt64(batches) && $0.seenSequence == UInt64(batches) })
        await controller.stop()
    }

    @Test("ingest over TLS with fsync before every Ack: what is sent is stored exactly (rate written when asked)")
    func ingest() async throws {
        let env = ProcessInfo.processInfo.environment
        let connections = Int(env["NETOBS_BENCH_CONNECTIONS"] ?? "") ?? 2
        let batches = Int(env["NETOBS_BENCH_BATCHES"] ?? "") ?? 20
        let perBatch = Int(env["NETOBS_BENCH_RECORDS_PER_BATCH"] ?? "") ?? 1_000
        let pki = try PKI()
        let data = temporaryDirectory("bench-data")
        let controller = try await startController(pki, data: data, heartbeatMs: 30_000)
        // A typical agent record (~230 bytes of JSON).
        let record = Array(#"{"kind":"tcp","ts_ns":1764370000000000000,"node":"bench-node","src_ip":"10.244.1.17","src_port":43512,"dst_ip":"10.244.2.9","dst_port":8080,"tcp_tx_bytes":18234,"tcp_rx_bytes":912,"tcp_srtt_us":182,"tcp_retransmits":0,"netns":4026532301,"cgroup_id":12345}"#.utf8)
        let rows = Array(repeating: record, count: perBatch)
        let contexts = try (0..<connections).map { try pki.clientContext(.agent, name: "bench-\($0)") }
        let start = DispatchTime.now().uptimeNanoseconds
        try await withThrowingTaskGroup(of: Int.self) { group in
            for i in 0..<connections {
                group.addTask {
                    try await BatchPusher.push(node: "bench-\(i)", port: controller.port, tls: contexts[i],
                                               batches: batches, records: rows, window: 8)
                }
            }
            for try await n in group { #expect(n == batches) }
        }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        let total = connections * batches * perBatch
        #expect(controller.counters.storedRecords == total)
        for i in 0..<connections { #expect(try controller.store.highestSequence(agentId: "bench-\(i)") == UInt64(batches)) }
        await controller.stop()
        try? FileManager.default.removeItem(atPath: data)
        if let out = env["NETOBS_BENCH_OUT"] {
            let result: [String: Any] = [
                "records_per_second": Int(Double(total) / seconds), "seconds": seconds, "records": total,
                "connections": connections, "batches_per_connection": batches, "records_per_batch": perBatch,
                "record_bytes": record.count, "megabytes_per_second": Double(total * record.count) / seconds / 1e6,
                "durability": "the batch appended to the agent's log and fdatasync'd before each Ack; the state hint rewritten every 64 appends, not synced",
            ]
            let json = try JSONSerialization.data(withJSONObject: result, options: [.prettyPrinted, .sortedKeys])
            try json.write(to: URL(fileURLWithPath: out))
        }
    }
}
