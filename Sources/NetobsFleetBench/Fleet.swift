import Foundation
import NetobsAgentLink
import NetobsTLS

/// Controller CPU and memory with many agents connected, idle and then each pushing a batch a second.
enum Fleet {
    struct Result: CustomStringConvertible {
        var agents = 0, seconds = 0, perAgent = 0
        var connectSeconds = 0.0
        var idleCPUShare = 0.0, loadCPUShare = 0.0
        var idleRSSKiB = 0, loadRSSKiB = 0, peakRSSKiB = 0
        var submitted = 0, delivered = 0, dropped = 0

        var description: String {
            "\(agents) agents connected in \(Int(connectSeconds)) s; controller CPU idle \(pct(idleCPUShare))%, under \(agents * perAgent) records/s \(pct(loadCPUShare))% of one core; RSS idle \(idleRSSKiB / 1024) MiB, loaded \(loadRSSKiB / 1024) MiB, peak \(peakRSSKiB / 1024) MiB; \(delivered) of \(submitted) records delivered, \(dropped) dropped (counted)"
        }
        var json: [String: Any] {
            ["agents": agents, "seconds": seconds, "records_per_agent_per_second": perAgent,
             "offered_records_per_second": agents * perAgent, "connect_seconds": (connectSeconds * 10).rounded() / 10,
             "controller_cpu_percent_of_one_core_idle": pct(idleCPUShare), "controller_cpu_percent_of_one_core_loaded": pct(loadCPUShare),
             "controller_rss_mib_idle": idleRSSKiB / 1024, "controller_rss_mib_loaded": loadRSSKiB / 1024,
             "controller_peak_rss_mib": peakRSSKiB / 1024, "controller_rss_kib_per_agent_idle": idleRSSKiB / max(agents, 1),
             "records_submitted": submitted, "records_delivered": delivered, "records_dropped_counted": dropped]
        }
        private func pct(_ x: Double) -> Double { (x * 1000).rounded() / 10 }
    }

    static func run(agents: Int, seconds: Int, perAgent: Int, certs: BenchCertificates,
                    endpoint: @Sendable (TLSContext) -> ControllerEndpoint, consumer: Tally, controller: ProcessSampler,
                    spool: String) async throws -> Result {
        var r = Result(agents: agents, seconds: seconds, perAgent: perAgent)
        let fleet = try SimulatedAgents(names: (0..<agents).map { "fleet-\($0)" }, certs: certs, endpoint: endpoint, spool: spool)
        let connectStart = ContinuousClock.now
        try await fleet.connect()
        r.connectSeconds = FleetBenchTime.seconds(ContinuousClock.now - connectStart)

        try await Task.sleep(for: .seconds(3))  // the handshakes' aftermath
        r.idleCPUShare = try await cpuShare(controller, over: 5)
        r.idleRSSKiB = controller.memoryKiB().rss

        let base = consumer.total
        let batches = (0..<agents).map { a in (0..<perAgent).map { record(agent: a, index: $0) } }
        let cpu0 = controller.cpuSeconds()
        let start = ContinuousClock.now
        for s in 0..<seconds {
            for a in 0..<agents { try await fleet.submit(a, batches[a]) }
            r.loadRSSKiB = max(r.loadRSSKiB, controller.memoryKiB().rss)
            let next = start + .seconds(s + 1)
            if ContinuousClock.now < next { try await Task.sleep(until: next) }
        }
        r.loadCPUShare = (controller.cpuSeconds() - cpu0) / FleetBenchTime.seconds(ContinuousClock.now - start)
        r.submitted = agents * perAgent * seconds
        try await fleet.drain()
        try await until(300, "the consumer to see every record") {
            let t = consumer.total
            return t.records - base.records + t.dropped - base.dropped >= r.submitted
        }
        r.delivered = consumer.total.records - base.records
        r.dropped = consumer.total.dropped - base.dropped
        r.peakRSSKiB = controller.memoryKiB().peak
        await fleet.stop()
        return r
    }

    static func cpuShare(_ p: ProcessSampler, over s: Int) async throws -> Double {
        let c0 = p.cpuSeconds()
        try await Task.sleep(for: .seconds(s))
        return (p.cpuSeconds() - c0) / Double(s)
    }
}
