import Foundation
import NetobsAgentLink
import NetobsController
import NetobsTLS

/// The fleet load for a long run against a controller whose data directory is a small volume
/// with a retention bound (`scripts/bench-retention.sh`: a 128 MiB tmpfs, `--retention-bytes 64M`):
/// every agent pushes a batch a second, one consumer follows, and every 10 s the volume's use,
/// the log's bytes, the controller's RSS and CPU and its counters are sampled from outside. After
/// the run every agent's log is read back: each acknowledged batch must be in it or counted as
/// dropped by retention for that node (acknowledged-but-lost = 0).
/// usage: NetobsFleetBench retention NETOBS OUT.json VOLUME [AGENTS] [SECONDS] [RECORDS_PER_AGENT_PER_SECOND] [RETENTION]
enum RetentionBench {
    struct Sample {
        var t = 0.0
        var volumeUsed = 0, logBytes = 0, segments = 0, rssKiB = 0
        var cpuSeconds = 0.0
        var ingested = 0, dropped = 0, delivered = 0, appendFailures = 0

        var json: [String: Any] {
            ["t_seconds": Int(t), "volume_used_bytes": volumeUsed, "log_bytes": logBytes, "segments": segments,
             "controller_rss_kib": rssKiB, "controller_cpu_seconds": (cpuSeconds * 10).rounded() / 10,
             "records_ingested": ingested, "records_dropped_by_retention": dropped,
             "records_delivered_to_consumer": delivered, "append_failures": appendFailures]
        }
    }

    static func main(_ args: [String]) async throws {
        guard args.count >= 5 else { throw BenchError("usage: NetobsFleetBench retention NETOBS OUT.json VOLUME [AGENTS] [SECONDS] [PER_AGENT] [RETENTION]") }
        let (binary, out, volume) = (args[2], args[3], args[4])
        let agents = args.count > 5 ? Int(args[5]) ?? 1_000 : 1_000
        let seconds = args.count > 6 ? Int(args[6]) ?? 600 : 600
        let perAgent = args.count > 7 ? Int(args[7]) ?? 50 : 50
        let retention = args.count > 8 ? args[8] : "64M"
        let work = NSTemporaryDirectory() + "netobs-retention-\(getpid())"
        let spool = "/dev/shm/netobs-retention-\(getpid())"
        let data = volume + "/data"
        try FileManager.default.createDirectory(atPath: work + "/certs", withIntermediateDirectories: true)
        defer { for d in [work, spool] { try? FileManager.default.removeItem(atPath: d) } }
        let certs = try BenchCertificates(directory: work + "/certs")
        let httpPort = try ControllerProcess.freePort()
        let controller = try await ControllerProcess.start(
            binary: binary, work: work, data: data,
            extra: ["--retention-bytes", retention, "--http-listen", "127.0.0.1:\(httpPort)", "--http-plaintext-loopback"])
        defer { controller.stop() }
        let sampler = controller.sampler
        let port = controller.port
        let endpoint: @Sendable (TLSContext) -> ControllerEndpoint = { ControllerEndpoint(host: "127.0.0.1", port: port, tls: $0) }
        let consumer = Tally()
        let stream = ConsumerStream(endpoint: endpoint(try certs.client(.consumer, name: "retention-consumer")),
                                    log: { _ in }, onBatch: { consumer.add($0.records.count, dropped: Int($0.dropped)) })
        stream.start()

        say("retention bench: \(agents) agents × \(perAgent) records/s for \(seconds) s, --retention-bytes \(retention) on \(volume)")
        let fleet = try SimulatedAgents(names: (0..<agents).map { "fleet-\($0)" }, certs: certs, endpoint: endpoint, spool: spool)
        try await fleet.connect()
        let batches = (0..<agents).map { a in (0..<perAgent).map { record(agent: a, index: $0) } }

        let start = ContinuousClock.now
        let samples = SampleLog()
        let sampling = Task {
            while !Task.isCancelled {
                let s = sample(at: FleetBenchTime.seconds(ContinuousClock.now - start), volume: volume,
                               sampler: sampler, httpPort: httpPort, consumer: consumer)
                samples.add(s)
                say(String(format: "  t=%4.0fs volume %5.1f MiB, log %5.1f MiB in %d segments, RSS %4d MiB, dropped %d, ingested %d",
                             s.t, Double(s.volumeUsed) / 1_048_576, Double(s.logBytes) / 1_048_576, s.segments,
                             s.rssKiB / 1024, s.dropped, s.ingested))
                try? await Task.sleep(for: .seconds(10))
            }
        }
        for s in 0..<seconds {
            for a in 0..<agents { try await fleet.submit(a, batches[a]) }
            let next = start + .seconds(s + 1)
            if ContinuousClock.now < next { try await Task.sleep(until: next) }
        }
        let loadSeconds = FleetBenchTime.seconds(ContinuousClock.now - start)
        try await fleet.drain()
        let allAcked = fleet.uplinks.allSatisfy { $0.spool.pending.isEmpty }
        // Every record reaches the consumer, or is counted as dropped for it or as not published.
        let consumerCaughtUp = (try? await until(300, "the consumer to see every record") {
            let t = consumer.total
            return t.records + t.dropped + scrape(httpPort).unpublished >= agents * perAgent * seconds
        }) != nil
        // Drops settle: a retention pass runs every 30 s as well as after appends.
        var final = scrape(httpPort)
        while true {
            try await Task.sleep(for: .seconds(31))
            let again = scrape(httpPort)
            if again == final { break }
            final = again
        }
        sampling.cancel()
        samples.add(sample(at: FleetBenchTime.seconds(ContinuousClock.now - start), volume: volume, sampler: sampler,
                           httpPort: httpPort, consumer: consumer))
        await stream.stop()
        await fleet.stop()
        controller.stop()

        // Read every agent's log back: kept + dropped must be every batch sent, kept contiguous to the last.
        let store = try AgentLogStore(directory: data)
        var lostBatches = 0, keptBatches = 0, droppedBatches = 0, droppedRecords = 0, keptRecords = 0, mismatched: [String] = []
        for a in 0..<agents {
            let node = "fleet-\(a)"
            var reader = store.reader(agentId: node)
            var sequences: [UInt64] = []
            while let entry = try reader.next() {
                sequences.append(entry.sequence)
                keptRecords += entry.records.count
            }
            let dropped = final.dropped[node] ?? (0, 0)
            droppedBatches += dropped.batches
            droppedRecords += dropped.records
            keptBatches += sequences.count
            let expected = sequences.isEmpty ? [] : Array(UInt64(dropped.batches + 1)...UInt64(seconds))
            if sequences != expected || sequences.count + dropped.batches != seconds {
                mismatched.append(node)
                lostBatches += max(0, seconds - sequences.count - dropped.batches)
            }
        }
        let all = samples.all
        let steady = all.filter { $0.t >= 60 && $0.t <= loadSeconds }
        let summary: [String: Any] = [
            "agents": agents, "seconds": seconds, "records_per_agent_per_second": perAgent,
            "offered_records_per_second": agents * perAgent, "load_seconds": (loadSeconds * 10).rounded() / 10,
            "retention_bytes": retention, "volume": volume,
            "records_submitted": agents * perAgent * seconds, "batches_submitted": agents * seconds,
            "every_batch_acknowledged": allAcked,
            "batches_kept_in_log": keptBatches, "records_kept_in_log": keptRecords,
            "batches_dropped_by_retention": droppedBatches, "records_dropped_by_retention": droppedRecords,
            "acked_but_lost_batches": lostBatches, "agents_whose_log_does_not_add_up": mismatched.count,
            "append_failures": final.appendFailures, "duplicate_batches": final.duplicates,
            "records_delivered_to_consumer": consumer.total.records, "records_dropped_for_consumer_counted": consumer.total.dropped,
            "records_unpublished_counted": final.unpublished, "consumer_saw_or_was_told_of_every_record": consumerCaughtUp,
            "steady_state_from_60s": [
                "volume_used_bytes_min": steady.map(\.volumeUsed).min() ?? 0, "volume_used_bytes_max": steady.map(\.volumeUsed).max() ?? 0,
                "log_bytes_min": steady.map(\.logBytes).min() ?? 0, "log_bytes_max": steady.map(\.logBytes).max() ?? 0,
                "controller_rss_mib_min": (steady.map(\.rssKiB).min() ?? 0) / 1024,
                "controller_rss_mib_max": (steady.map(\.rssKiB).max() ?? 0) / 1024,
                "controller_rss_mib_first": (steady.first?.rssKiB ?? 0) / 1024, "controller_rss_mib_last": (steady.last?.rssKiB ?? 0) / 1024,
                "controller_cpu_percent_of_one_core": steady.count > 1
                    ? ((steady.last!.cpuSeconds - steady.first!.cpuSeconds) / (steady.last!.t - steady.first!.t) * 1000).rounded() / 10 : 0,
            ] as [String: Any],
        ]
        let result: [String: Any] = [
            "what": "release netobs controller in its own process, data directory on a 128 MiB tmpfs with --retention-bytes \(retention); \(agents) simulated agents (real uplinks and spools) each pushing a \(perAgent)-record batch a second for \(seconds) s and one consumer, over mutual TLS on loopback, all on this machine's 2 shared cores; sampled every 10 s from outside; afterwards every agent's log read back and checked against the drops /metrics counted for that node",
            "summary": summary, "samples": all.map(\.json),
        ]
        let json = try JSONSerialization.data(withJSONObject: result, options: [.prettyPrinted, .sortedKeys])
        try json.write(to: URL(fileURLWithPath: out))
        say("retention bench: \(summary)")
    }

    static func sample(at t: Double, volume: String, sampler: ProcessSampler, httpPort: Int, consumer: Tally) -> Sample {
        var s = Sample(t: t)
        var st = statvfs()
        if statvfs(volume, &st) == 0 { s.volumeUsed = Int(st.f_blocks - st.f_bfree) * Int(st.f_frsize) }
        s.rssKiB = sampler.memoryKiB().rss
        s.cpuSeconds = sampler.cpuSeconds()
        let m = scrape(httpPort)
        s.logBytes = m.logBytes
        s.segments = m.segments
        s.ingested = m.ingested
        s.dropped = m.dropped.values.reduce(0) { $0 + $1.records }
        s.appendFailures = m.appendFailures
        s.delivered = consumer.total.records
        return s
    }

    struct Scrape: Equatable {
        var logBytes = 0, segments = 0, ingested = 0, duplicates = 0, unpublished = 0, appendFailures = 0
        var dropped: [String: (batches: Int, records: Int)] = [:]

        static func == (a: Scrape, b: Scrape) -> Bool {
            a.logBytes == b.logBytes && a.ingested == b.ingested
                && a.dropped.mapValues { [$0.batches, $0.records] } == b.dropped.mapValues { [$0.batches, $0.records] }
        }
    }

    /// The controller's /metrics, the few series this bench reads.
    static func scrape(_ port: Int) -> Scrape {
        var m = Scrape()
        for line in MetricsGet.fetch(port: port).split(separator: "\n") where !line.hasPrefix("#") {
            guard let space = line.lastIndex(of: " "), let value = Double(line[line.index(after: space)...]) else { continue }
            let series = line[..<space]
            let v = Int(value)
            switch series {
            case "netobs_log_bytes": m.logBytes = v
            case "netobs_log_segments": m.segments = v
            case "netobs_controller_records_ingested_total": m.ingested = v
            case "netobs_controller_duplicate_batches_total": m.duplicates = v
            case "netobs_stream_unpublished_records_total": m.unpublished = v
            default:
                if series.hasPrefix("netobs_log_append_failures_total{") { m.appendFailures += v }
                for (family, batches) in [("netobs_log_retention_dropped_batches_total{", true), ("netobs_log_retention_dropped_records_total{", false)]
                where series.hasPrefix(family) {
                    guard let node = series.split(separator: "\"").dropFirst().first.map(String.init) else { continue }
                    var d = m.dropped[node] ?? (0, 0)
                    if batches { d.batches += v } else { d.records += v }
                    m.dropped[node] = d
                }
            }
        }
        return m
    }
}

final class SampleLog: @unchecked Sendable {
    private let lock = NSLock()
    private var samples: [RetentionBench.Sample] = []
    func add(_ s: RetentionBench.Sample) { lock.withLock { samples.append(s) } }
    var all: [RetentionBench.Sample] { lock.withLock { samples } }
}

/// GET /metrics over plain HTTP on loopback (the controller's --http-plaintext-loopback).
enum MetricsGet {
    static func fetch(port: Int) -> String {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return "" }
        defer { close(fd) }
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = UInt16(port).bigEndian
        addr.sin_addr.s_addr = UInt32(0x7f00_0001).bigEndian
        let connected = withUnsafePointer(to: &addr) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
        guard connected else { return "" }
        let request = Array("GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".utf8)
        guard write(fd, request, request.count) == request.count else { return "" }
        var response: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = read(fd, &chunk, chunk.count)
            if n <= 0 { break }
            response += chunk[0..<n]
        }
        let text = String(decoding: response, as: UTF8.self)
        guard let split = text.range(of: "\r\n\r\n") else { return "" }
        let body = String(text[split.upperBound...])
        return text[..<split.lowerBound].lowercased().contains("transfer-encoding: chunked") ? dechunk(body) : body
    }

    private static func dechunk(_ body: String) -> String {
        var rest = Substring(body)
        var out = ""
        while let line = rest.range(of: "\r\n"), let size = Int(rest[..<line.lowerBound], radix: 16), size > 0 {
            let start = line.upperBound
            let end = rest.utf8.index(start, offsetBy: size)
            out += rest[start..<end]
            rest = rest[end...].dropFirst(2)
        }
        return out
    }
}

/// A line on stdout at once (print is block-buffered into a log file, and lost if the run dies).
func say(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}
