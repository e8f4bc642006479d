import NetobsController
import NetobsDashboard
import NetobsRecords

/// Keeps the dashboard's data fed with every record the hub publishes, through the same bounded
/// in-process subscriptions an HTTP stream uses: a dashboard that falls behind has records refused
/// and counted by the hub, and publishing never waits for it. Anomalies come through a
/// subscription of their own, so that a burst of flow records filling the first queue cannot
/// crowd them out.
final class DashboardFeed: Sendable {
    let data: StaticDashboardData
    private let flows: RecordStream
    private let anomalies: RecordStream
    private let tasks: [Task<Void, Never>]

    /// How our anomaly records begin (the flows' subscription leaves them to the other one).
    private static let anomalyPrefix = Array(#"{"kind":"anomaly""#.utf8)

    init(hub: StreamHub, data: StaticDashboardData = StaticDashboardData()) {
        self.data = data
        flows = RecordStream(hub: hub, filter: RecordFilter())
        anomalies = RecordStream(hub: hub, filter: RecordFilter(anomaliesOnly: true))
        tasks = [Self.feed(data, from: flows) { !$0.starts(with: Self.anomalyPrefix) }, Self.feed(data, from: anomalies) { _ in true }]
    }

    private static func feed(_ data: StaticDashboardData, from stream: RecordStream,
                             where wanted: @escaping @Sendable ([UInt8]) -> Bool) -> Task<Void, Never> {
        Task {
            for await item in stream.items {
                guard case .records(let records, _) = item else { continue }
                for record in records where wanted(record) { await data.ingest(jsonLine: String(decoding: record, as: UTF8.self)) }
            }
        }
    }

    func stop() {
        flows.finish()
        anomalies.finish()
        tasks.forEach { $0.cancel() }
    }
}
