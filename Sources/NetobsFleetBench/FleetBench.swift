import Foundation
import NetobsAgentLink
import NetobsTLS
import NetobsWire

/// The controller as operators run it (the release `netobs controller` binary, its own process,
/// durable log on disk, live analysis on) measured from outside:
///   pipeline: a few agents push as fast as their uplinks go, one consumer follows every record;
///             records delivered to the consumer per second (from the first submit to the last
///             record delivered) beside records sent and counted drops, controller CPU.
///   fleet:    1,000 agents, each with its own certificate, connected at once and each pushing one
///             batch a second; controller CPU (share of one core) and RSS idle and under that load.
/// Simulated agents and the consumer live in this process, on the same cores as the controller.
/// The fleet goes first: its idle figure must not include the pipeline's backlog.
/// usage: NetobsFleetBench NETOBS_BINARY OUT.json [AGENTS] [SECONDS] [RECORDS_PER_AGENT_PER_SECOND]
///        NetobsFleetBench retention … (see `RetentionBench`)
@main
struct FleetBench {
    static func main() async throws {
        let args = CommandLine.arguments
        if args.count > 1 && args[1] == "retention" {
            try await RetentionBench.main(args)
            return
        }
        guard args.count >= 3 else {
            FileHandle.standardError.write(Data("usage: NetobsFleetBench NETOBS_BINARY OUT.json [AGENTS] [SECONDS] [RECORDS_PER_AGENT_PER_SECOND]\n".utf8))
            exit(2)
        }
        let agents = args.count > 3 ? Int(args[3]) ?? 1_000 : 1_000
        let seconds = args.count > 4 ? Int(args[4]) ?? 20 : 20
        let perAgent = args.count > 5 ? Int(args[5]) ?? 50 : 50
        let work = NSTemporaryDirectory() + "netobs-fleet-\(getpid())"
        let spool = "/dev/shm/netobs-fleet-\(getpid())"  // tmpfs: the agents' fsyncs cost nothing
        try FileManager.default.createDirectory(atPath: work + "/certs", withIntermediateDirectories: true)
        defer { for d in [work, spool] { try? FileManager.default.removeItem(atPath: d) } }
        let certs = try BenchCertificates(directory: work + "/certs")
        let controller = try await ControllerProcess.start(binary: args[1], work: work)
        defer { controller.stop() }
        let port = controller.port
        let endpoint: @Sendable (TLSContext) -> ControllerEndpoint = { tls in ControllerEndpoint(host: "127.0.0.1", port: port, tls: tls) }

        let consumer = Tally()
        let stream = ConsumerStream(endpoint: endpoint(try certs.client(.consumer, name: "fleet-consumer")),
                                    log: { _ in }, onBatch: { consumer.add($0.records.count, dropped: Int($0.dropped)) })
        stream.start()

        print("fleet bench: \(agents) agents, \(perAgent) records/s each for \(seconds) s")
        let fleet = try await Fleet.run(agents: agents, seconds: seconds, perAgent: perAgent, certs: certs, endpoint: endpoint,
                                        consumer: consumer, controller: controller.sampler, spool: spool)
        print("  \(fleet)")

        print("fleet bench: pipeline, 4 agents pushing as fast as they can, 1 consumer")
        let pipeline = try await Pipeline.run(agents: 4, batches: 100, perBatch: 2_000, certs: certs, endpoint: endpoint,
                                              consumer: consumer, controller: controller.sampler, spool: spool)
        print("  \(pipeline)")
        await stream.stop()

        let result: [String: Any] = [
            "what": "release netobs controller in its own process (durable log with fsync before each ack, live analysis on), simulated agents and one consumer over mutual TLS on loopback, all on this machine's cores",
            "pipeline": pipeline.json, "fleet": fleet.json,
        ]
        let data = try JSONSerialization.data(withJSONObject: result, options: [.prettyPrinted, .sortedKeys])
        try data.write(to: URL(fileURLWithPath: args[2]))
    }
}

/// Records and drops the consumer saw, and when the last record arrived (a delivered rate ends
/// there, not when the last drop was counted).
final class Tally: @unchecked Sendable {
    private let lock = NSLock()
    private var records = 0, dropped = 0
    private var lastRecord: ContinuousClock.Instant?
    var total: (records: Int, dropped: Int) { lock.withLock { (records, dropped) } }
    var lastRecordAt: ContinuousClock.Instant? { lock.withLock { lastRecord } }
    func add(_ n: Int, dropped d: Int) {
        let now = ContinuousClock.now
        lock.withLock {
            records += n
            dropped += d
            if n > 0 { lastRecord = now }
        }
    }
}

struct BenchError: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}

func until(_ seconds: Double, _ what: String, _ condition: () -> Bool) async throws {
    let deadline = Date().addingTimeInterval(seconds)
    while !condition() {
        guard Date() < deadline else { throw BenchError("timed out waiting for \(what)") }
        try await Task.sleep(for: .milliseconds(20))
    }
}

/// A typical joined-to-be HTTP record (~300 bytes), distinct per agent and index.
func record(agent: Int, index: Int) -> [UInt8] {
    Array(#"{"kind":"http","ts_ns":\#(index),"node":"node-\#(agent)","pid":7,"comm":"app","role":"client","src_ip":"10.1.\#(agent % 250).\#(index % 250)","src_port":\#(40000 + index % 20000),"dst_ip":"10.2.0.3","dst_port":80,"http_request_method":"GET","http_request_uri":"/cart/\#(index % 100)","http_request_version":"1.1","http_status_code":200,"http_duration":1500000}"#.utf8)
}
