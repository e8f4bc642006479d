import Foundation
import NetobsAgentLink
import NetobsTLS

/// Records/s through agent uplink -> controller (durable log, join, analysis, fan-out) -> consumer.
/// The rate is of records delivered to the consumer: the controller drops records for a consumer
/// that falls behind (counted, never silent), and a rate of records sent would count those too.
enum Pipeline {
    struct Result: CustomStringConvertible {
        var records = 0, delivered = 0, dropped = 0
        /// From the first submit until every record was delivered or counted as dropped.
        var seconds = 0.0
        /// From the first submit to the last record delivered.
        var deliveredSeconds = 0.0
        var controllerCPUSeconds = 0.0, peakRSSKiB = 0

        var deliveredPerSecond: Int { deliveredSeconds > 0 ? Int(Double(delivered) / deliveredSeconds) : 0 }
        var sentPerSecond: Int { Int(Double(records) / seconds) }
        var description: String {
            "\(deliveredPerSecond) records/s delivered end to end (\(delivered) of \(records) sent delivered, \(dropped) dropped by the controller, counted), controller CPU \(Int(100 * controllerCPUSeconds / seconds))% of one core"
        }
        var json: [String: Any] {
            ["records": records, "records_delivered": delivered, "records_dropped_counted": dropped,
             "seconds": (seconds * 1000).rounded() / 1000, "delivered_seconds": (deliveredSeconds * 1000).rounded() / 1000,
             "delivered_records_per_second": deliveredPerSecond, "sent_records_per_second": sentPerSecond,
             "controller_cpu_percent_of_one_core": (1000 * controllerCPUSeconds / seconds).rounded() / 10,
             "controller_cpu_ns_per_record": Int(1e9 * controllerCPUSeconds / Double(records)),
             "controller_cpu_ns_per_delivered_record": delivered > 0 ? Int(1e9 * controllerCPUSeconds / Double(delivered)) : 0,
             "controller_peak_rss_mib": peakRSSKiB / 1024]
        }
    }

    static func run(agents: Int, batches: Int, perBatch: Int, certs: BenchCertificates,
                    endpoint: @Sendable (TLSContext) -> ControllerEndpoint, consumer: Tally, controller: ProcessSampler,
                    spool: String) async throws -> Result {
        let fleet = try SimulatedAgents(names: (0..<agents).map { "pipe-\($0)" }, certs: certs, endpoint: endpoint, spool: spool)
        try await fleet.connect()
        // One record each first: the consumer's subscription is live once they arrive.
        let before = consumer.total
        for i in 0..<agents { try await fleet.submit(i, [record(agent: i, index: 0)]) }
        try await until(60, "the consumer's first records") { consumer.total.records - before.records >= agents }

        let work = (0..<agents).map { a in (0..<batches).map { b in (0..<perBatch).map { record(agent: a, index: b * perBatch + $0 + 1) } } }
        var r = Result(records: agents * batches * perBatch)
        let base = consumer.total
        let cpu0 = controller.cpuSeconds()
        let start = ContinuousClock.now
        for b in 0..<batches { for a in 0..<agents { try await fleet.submit(a, work[a][b]) } }
        try await fleet.drain()
        try await until(300, "the consumer to see every record") {
            let t = consumer.total
            return t.records - base.records + t.dropped - base.dropped >= r.records
        }
        r.seconds = FleetBenchTime.seconds(ContinuousClock.now - start)
        r.controllerCPUSeconds = controller.cpuSeconds() - cpu0
        r.delivered = consumer.total.records - base.records
        if r.delivered > 0, let last = consumer.lastRecordAt { r.deliveredSeconds = FleetBenchTime.seconds(last - start) }
        r.dropped = consumer.total.dropped - base.dropped
        r.peakRSSKiB = controller.memoryKiB().peak
        await fleet.stop()
        return r
    }
}
