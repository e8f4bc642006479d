import Foundation
import NetobsAgentLink
import NetobsController
import NetobsTLS
import NetobsWire

/// Controller ingest rate (records/s from the agent's first submit to its last ack, through TLS
/// and the fsynced durable log) with no consumer, with 100 filtered consumers (each its own
/// namespace of 100: together they take every record once), and with 100 unfiltered consumers
/// (each takes every record). Arms interleaved per round, medians reported. The consumers are
/// TLS clients in a process of their own (`ConsumerProcess`).
/// Also this process's CPU time (controller and agent) from the first submit until the
/// controller has written every record to its consumers: less sensitive than the rate to other
/// load on the machine.
/// usage: NetobsConsumerBench OUT.json [ROUNDS] [BATCHES]; NETOBS_BENCH_ARMS=none,filtered100 runs only those
/// arms (for profiling one of them); NETOBS_BENCH_WINDOW_MS sets the hub's grouping window;
/// NETOBS_BENCH_CONSUMER_CPUS pins the consumer process (scripts/bench-consumers.sh pins this one apart).
@main
struct ConsumerBench {
    static let namespaces = 100
    static let perBatch = 200

    enum Arm: String, CaseIterable { case none, filtered100, unfiltered100 }

    static func main() async throws {
        let args = CommandLine.arguments
        if args.count > 1, args[1] == ConsumerProcess.flag { return try await ConsumerProcess.main(Array(args.dropFirst(2))) }
        guard args.count >= 2 else {
            FileHandle.standardError.write(Data("usage: NetobsConsumerBench OUT.json [ROUNDS] [BATCHES]\n".utf8))
            exit(2)
        }
        let rounds = args.count > 2 ? Int(args[2]) ?? 5 : 5
        let batches = args.count > 3 ? Int(args[3]) ?? 100 : 100
        let arms = ProcessInfo.processInfo.environment["NETOBS_BENCH_ARMS"].map {
            $0.split(separator: ",").compactMap { Arm(rawValue: String($0)) }
        } ?? Arm.allCases
        guard arms.contains(.none) else {
            FileHandle.standardError.write(Data("NETOBS_BENCH_ARMS must include none (the base of every ratio)\n".utf8))
            exit(2)
        }
        let pki = try BenchPKI()
        var rates: [Arm: [Double]] = [:]
        var cpu: [Arm: [Double]] = [:]
        var delivered: [Arm: [Int]] = [:]
        var lag: [Arm: [Double]] = [:]
        for round in 0..<rounds {
            for k in arms.indices {
                let arm = arms[(k + round) % arms.count]
                let r = try await run(arm, batches: batches, pki: pki)
                rates[arm, default: []].append(r.rate)
                cpu[arm, default: []].append(r.cpuSeconds)
                delivered[arm, default: []].append(r.delivered)
                lag[arm, default: []].append(r.lagSeconds)
                print("round \(round + 1) \(arm.rawValue): \(Int(r.rate)) records/s, \(r.delivered) delivered, \(r.dropped) dropped, \(Int(r.cpuSeconds * 1000)) ms CPU, written to consumers \(Int(r.lagSeconds * 1000)) ms after the last Ack")
            }
        }
        let base = median(rates[.none]!)
        var results: [String: Any] = [:]
        for arm in arms {
            let m = median(rates[arm]!)
            // Each round's rate over the same round's no-consumer rate: less noise from the machine's load.
            let paired = median(zip(rates[arm]!, rates[.none]!).map { $0 / $1 })
            results[arm.rawValue] = ["records_per_s_median": Int(m), "records_per_s": rates[arm]!.map { Int($0) },
                                  "ratio_of_medians": (m / base * 1000).rounded() / 1000,
                                  "median_of_round_ratios": (paired * 1000).rounded() / 1000,
                                  "cpu_ms_per_run": cpu[arm]!.map { Int($0 * 1000) },
                                  "cpu_over_none_median_of_round_ratios": (median(zip(cpu[arm]!, cpu[.none]!).map { $0 / $1 }) * 1000).rounded() / 1000,
                                  "records_delivered_per_run": delivered[arm]!,
                                  "ms_from_last_ack_to_all_written_median": Int(median(lag[arm]!) * 1000)]
        }
        let result: [String: Any] = [
            "what": "controller ingest: agent uplink over TLS -> fsynced durable log -> publish -> ack; records/s, median of interleaved rounds",
            "records_per_run": batches * perBatch, "records_per_batch": perBatch, "rounds": rounds,
            "consumers": "ConsumerStream clients over TLS in a process of their own; filtered100: one namespace each of 100 (together every record once); unfiltered100: every record to each",
            "cpus": ["controller_and_agent": ProcessInfo.processInfo.environment["NETOBS_BENCH_CPUS"] ?? "any",
                     "consumers": ProcessInfo.processInfo.environment["NETOBS_BENCH_CONSUMER_CPUS"] ?? "any"],
            "cpu_ms": "this process (controller and agent) from the first submit until every record was written to its consumers",
            "build": "release",
            "grouping_window_ms": windowMs,
            "arms": results,
        ]
        let data = try JSONSerialization.data(withJSONObject: result, options: [.prettyPrinted, .sortedKeys])
        try data.write(to: URL(fileURLWithPath: args[1]))
        print(String(decoding: data, as: UTF8.self))
    }

    static func median(_ v: [Double]) -> Double {
        let s = v.sorted()
        return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
    }

    static func batch(_ b: Int) -> [[UInt8]] {
        (0..<perBatch).map { i in
            let ns = "ns-\((b * perBatch + i) % namespaces)"
            return Array(#"{"kind":"http","ts_ns":\#(b * 1000 + i),"node":"n1","pid":7,"comm":"app","role":"client","src_ip":"10.0.0.2","src_port":40000,"dst_ip":"10.0.0.3","dst_port":80,"src_ns":"\#(ns)","src_pod":"front-\#(i % 7)","dst_ns":"\#(ns)","dst_pod":"carts-1","dst_service":"carts","http_request_method":"GET","http_request_uri":"/cart/\#(i)","http_request_version":"1.1","http_status_code":200,"http_duration":1500000}"#.utf8)
        }
    }

    static let windowMs = ProcessInfo.processInfo.environment["NETOBS_BENCH_WINDOW_MS"].flatMap { Int($0) }
        ?? Int(StreamHub.Settings().window.nanoseconds / 1_000_000)

    struct RunResult {
        var rate: Double
        var delivered: Int
        var dropped: Int
        /// From the last Ack until the controller had written every record to its consumers.
        var lagSeconds: Double
        var cpuSeconds: Double
    }

    /// One run: a fresh controller and agent, the arm's consumers subscribed before the first batch.
    static func run(_ arm: Arm, batches: Int, pki: BenchPKI) async throws -> RunResult {
        let data = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: data) }
        var config = Controller.Configuration(host: "127.0.0.1", port: 0, dataDirectory: data + "/data", tls: try pki.context(.controller))
        config.stream.window = .milliseconds(Int64(windowMs))
        let controller = try await Controller.start(config, log: ControllerLog { verbose($0) })
        var consumers: ConsumerProcess?
        if arm != .none {
            try pki.writeConsumerFiles(to: data)
            consumers = try ConsumerProcess.launch(port: controller.port, filtered: arm == .filtered100, count: 100, pki: data)
            try await until(60) { controller.hub.count == 100 }
        }
        let uplink = AgentUplink(endpoint: ControllerEndpoint(host: "127.0.0.1", port: controller.port, tls: try pki.context(.agent)),
                                 spool: try Spool(directory: data + "/spool", agentId: "bench-agent"),
                                 node: AgentIdentity(nodeName: "bench-agent", agentVersion: "bench", kernelRelease: "bench"),
                                 backoff: Backoff(baseMs: 20, capMs: 200, floorMs: 10), log: { verbose("agent: " + $0) })
        uplink.start()
        let all = (0..<batches).map(batch)
        let cpuStart = processCPUSeconds()
        let monotonicStart = monotonicSeconds()
        let start = ContinuousClock.now
        for b in all { _ = try uplink.submit(records: b) }
        guard await uplink.drain(timeoutMs: 300_000) else { throw BenchError("the agent did not drain") }
        let elapsed = ContinuousClock.now - start
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        let total = batches * perBatch
        let expected = arm == .none ? 0 : arm == .filtered100 ? total : total * 100
        // Each record is written to each consumer selecting it, or counted as dropped (a slow reader).
        try await until(300) { controller.hub.stats.deliveredRecords + controller.hub.stats.droppedRecords >= UInt64(expected) }
        let lag = ContinuousClock.now - start - elapsed
        let cpuSeconds = processCPUSeconds() - cpuStart
        // For `perf record -k CLOCK_MONOTONIC`: the measured part of the run, apart from setup.
        verbose("measured \(arm.rawValue) from \(monotonicStart) to \(monotonicSeconds()) (CLOCK_MONOTONIC s)")
        let dropped = Int(controller.hub.stats.droppedRecords)
        let received = try consumers?.finish(expected: expected - dropped) ?? 0
        await uplink.stop()
        await controller.stop()
        let lagSeconds = Double(lag.components.seconds) + Double(lag.components.attoseconds) / 1e18
        return RunResult(rate: Double(total) / seconds, delivered: received, dropped: dropped, lagSeconds: lagSeconds,
                         cpuSeconds: cpuSeconds)
    }

    static func monotonicSeconds() -> Double {
        var t = timespec()
        clock_gettime(CLOCK_MONOTONIC, &t)
        return Double(t.tv_sec) + Double(t.tv_nsec) / 1e9
    }

    /// User + system CPU time of the whole process (every thread).
    static func processCPUSeconds() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        func seconds(_ t: timeval) -> Double { Double(t.tv_sec) + Double(t.tv_usec) / 1e6 }
        return seconds(usage.ru_utime) + seconds(usage.ru_stime)
    }

    static func until(_ seconds: Double, _ condition: () -> Bool) async throws {
        let deadline = Date().addingTimeInterval(seconds)
        while !condition() {
            guard Date() < deadline else { throw BenchError("timed out") }
            try await Task.sleep(for: .milliseconds(10))
        }
    }

    static func temporaryDirectory() -> String {
        let path = NSTemporaryDirectory() + "netobs-bench-\(UUID().uuidString)"
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }
}

struct BenchError: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}

final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var n = 0
    var value: Int { lock.withLock { n } }
    func add(_ k: Int) { lock.withLock { n += k } }
}

/// A CA and one certificate per role, in memory.
final class BenchPKI: @unchecked Sendable {
    let ca: (certificate: Certificate, key: PrivateKey)
    init() throws { ca = try CertificateFactory.selfSigned(CertificateRequest(commonName: "bench CA", usage: .certificateAuthority)) }

    func context(_ role: NetobsRole) throws -> TLSContext {
        let request = role == .controller
            ? CertificateRequest(commonName: "netobs-controller", usage: .server, role: .controller, ipAddresses: ["127.0.0.1"])
            : CertificateRequest(commonName: "bench-\(role)", usage: .client, role: role)
        let pair: (certificate: Certificate, key: PrivateKey) = try CertificateFactory.issue(request, by: ca)
        let config: TLSConfiguration = role == .controller
            ? .server(trustRoots: .bytes(ca.certificate.pem), certificateChain: .bytes(pair.certificate.pem), privateKey: .bytes(pair.key.pkcs8PEM))
            : .client(trustRoots: .bytes(ca.certificate.pem), certificateChain: .bytes(pair.certificate.pem), privateKey: .bytes(pair.key.pkcs8PEM))
        return try TLSContext(configuration: config)
    }
}

/// NETOBS_BENCH_VERBOSE=1: the controller's and the agent's logs on stderr.
let verboseLogs = ProcessInfo.processInfo.environment["NETOBS_BENCH_VERBOSE"] != nil
@Sendable func verbose(_ line: String) {
    if verboseLogs { FileHandle.standardError.write(Data((line + "\n").utf8)) }
}
