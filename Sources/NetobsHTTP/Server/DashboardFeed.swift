import NetobsController
import NetobsDashboard
import NetobsRecords

/// Keeps the dashboard's data fed with every record the hub publishes (anomalies included), through
/// the same bounded in-process subscription an HTTP stream uses: a dashboard that falls behind has
/// records refused and counted by the hub, and publishing never waits for it.
final class DashboardFeed: Sendable {
    let data: StaticDashboardData
    private let stream: RecordStream
    private let task: Task<Void, Never>

    init(hub: StreamHub, data: StaticDashboardData = StaticDashboardData()) {
        self.data = data
        let stream = RecordStream(hub: hub, filter: RecordFilter())
        self.stream = stream
        task = Task {
            for await item in stream.items {
                guard case .records(let records, _) = item else { continue }
                for record in records { await data.ingest(jsonLine: String(decoding: record, as: UTF8.self)) }
            }
        }
    }

    func stop() {
        stream.finish()
        task.cancel()
    }
}
