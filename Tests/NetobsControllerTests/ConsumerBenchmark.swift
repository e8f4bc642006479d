import Foundation
import Testing
import NetobsAgentLink
import NetobsController
import NetobsWire

/// Ingest rate (records/s, agent submit to last ack, through TLS and the durable log) with no
/// consumer, with 100 filtered consumers (each its own namespace: together they take every
/// record once), and with 100 unfiltered consumers (each takes every record). Arms interleaved
/// per round, medians reported. A benchmark, not a test: runs only when
/// NETOBS_BENCH_CONSUMERS_OUT names the JSON file to write (scripts/bench-consumers.sh).
@Suite("benchmark: ingest with 0 vs 100 consumers", .serialized,
       .enabled(if: ProcessInfo.processInfo.environment["NETOBS_BENCH_CONSUMERS_OUT"] != nil))
struct ConsumerBenchmark {
    static let namespaces = 100
    static let batches = 50
    static let perBatch = 200

    enum Arm: String, CaseIterable { case none, filtered100, unfiltered100 }

    static func batch(_ b: Int) -> [[UInt8]] {
        (0..<perBatch).map { i in
            let ns = "ns-\((b * perBatch + i) % namespaces)"
            return Array(#"{"kind":"http","ts_ns":\#(b * 1000 + i),"node":"n1","pid":7,"comm":"app","role":"client","src_ip":"10.0.0.2","src_port":40000,"dst_ip":"10.0.0.3","dst_port":80,"src_ns":"\#(ns)","src_pod":"front-\#(i % 7)","dst_ns":"\#(ns)","dst_pod":"carts-1","dst_service":"carts","http_request_method":"GET","http_request_uri":"/cart/\#(i)","http_request_version":"1.1","http_status_code":200,"http_duration":1500000}"#.utf8)
        }
    }

    @Test func ingestWithConsumers() async throws {
        let pki = try PKI()
        let rounds = Int(ProcessInfo.processInfo.environment["NETOBS_BENCH_ROUNDS"] ?? "") ?? 5
        var rates: [Arm: [Double]] = [:]
        var delivered: [Arm: [Int]] = [:]
        for round in 0..<rounds {
            let order = Arm.allCases.indices.map { Arm.allCases[($0 + round) % Arm.allCases.count] }
            for arm in order {
                let (rate, got) = try await run(arm, pki: pki)
                rates[arm, default: []].append(rate)
                delivered[arm, default: []].append(got)
                print("bench consumers: round \(round + 1) \(arm.rawValue): \(Int(rate)) records/s, \(got) delivered")
            }
        }
        func median(_ v: [Double]) -> Double { let s = v.sorted(); return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2 }
        let base = median(rates[.none]!)
        var arms: [String: Any] = [:]
        for arm in Arm.allCases {
            let m = median(rates[arm]!)
            arms[arm.rawValue] = ["records_per_s_median": Int(m), "records_per_s": rates[arm]!.map { Int($0) },
                                  "ratio_to_none": (m / base * 1000).rounded() / 1000,
                                  "slowdown_percent": ((1 - m / base) * 1000).rounded() / 10,
                                  "records_delivered_per_run": delivered[arm]!]
        }
        let result: [String: Any] = [
            "what": "controller ingest (agent uplink over TLS -> durable log -> ack), records/s, median over interleaved rounds",
            "records_per_run": Self.batches * Self.perBatch, "batch_records": Self.perBatch, "rounds": rounds,
            "consumers": "in-process ConsumerStream clients over TLS on the same 2-core machine; filtered100: each subscribes to one of 100 namespaces; unfiltered100: no filter",
            "build": ProcessInfo.processInfo.environment["NETOBS_BENCH_BUILD"] ?? "debug",
            "arms": arms,
        ]
        let data = try JSONSerialization.data(withJSONObject: result, options: [.prettyPrinted, .sortedKeys])
        try data.write(to: URL(fileURLWithPath: ProcessInfo.processInfo.environment["NETOBS_BENCH_CONSUMERS_OUT"]!))
        print(String(decoding: data, as: UTF8.self))
    }

    /// One run: a fresh controller and agent, the arm's consumers subscribed before the first batch.
    func run(_ arm: Arm, pki: PKI) async throws -> (Double, Int) {
        let controller = try await startController(pki, data: temporaryDirectory("bench"))
        let received = Counter()
        var consumers: [ConsumerStream] = []
        if arm != .none {
            for k in 0..<100 {
                let filter = arm == .filtered100 ? Subscribe(namespace: "ns-\(k)") : Subscribe()
                let c = ConsumerStream(endpoint: ControllerEndpoint(host: "127.0.0.1", port: controller.port,
                                                                    tls: try pki.clientContext(.consumer)),
                                       filter: filter, log: { _ in }, onBatch: { received.add($0.records.count) })
                c.start()
                consumers.append(c)
            }
            #expect(await eventually(60) { controller.hub.count == 100 })
        }
        let uplink = AgentUplink(endpoint: ControllerEndpoint(host: "127.0.0.1", port: controller.port, tls: try pki.clientContext(.agent)),
                                 spool: try Spool(directory: temporaryDirectory("spool"), agentId: "bench"),
                                 node: AgentIdentity(nodeName: "bench", agentVersion: "bench", kernelRelease: "bench"),
                                 backoff: Backoff(baseMs: 20, capMs: 200, floorMs: 10), log: { _ in })
        uplink.start()
        let batches = (0..<Self.batches).map(Self.batch)
        let start = ContinuousClock.now
        for b in batches { _ = try uplink.submit(records: b) }
        #expect(await uplink.drain(timeoutMs: 120_000))
        let elapsed = ContinuousClock.now - start
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        let total = Self.batches * Self.perBatch
        let expected = arm == .none ? 0 : arm == .filtered100 ? total : total * 100
        // Every record reaches each consumer that selects it, or is counted as dropped (too slow a reader).
        let accounted = await eventually(180) { received.value + Int(controller.hub.stats.droppedRecords) >= expected }
        #expect(accounted && received.value + Int(controller.hub.stats.droppedRecords) == expected)
        await uplink.stop()
        for c in consumers { await c.stop() }
        await controller.stop()
        return (Double(total) / seconds, received.value)
    }
}

final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var n = 0
    var value: Int { lock.withLock { n } }
    func add(_ k: Int) { lock.withLock { n += k } }
}
