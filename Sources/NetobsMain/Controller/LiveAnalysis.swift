import Foundation
import NetobsAnalysis
import NetobsController
import NetobsRecords

/// The analysis engine on the live, joined stream: every record feeds the online analyzer; once
/// per interval the anomalies it raises or closes go to consumers as `kind: "anomaly"` records
/// and, when closed, to DATA/anomalies.jsonl (the contract's format).
actor LiveAnalysis {
    private var analyzer: OnlineAnalyzer
    private let hub: StreamHub
    private let journal: URL
    private let log: @Sendable (String) -> Void
    private var unparsed = 0
    private var tasks: [Task<Void, Never>] = []
    private var subscription: StreamHub.SubscriberID?

    init(hub: StreamHub, model: AnalysisModel, dataDirectory: String, log: @escaping @Sendable (String) -> Void) {
        analyzer = OnlineAnalyzer(model: model)
        self.hub = hub
        journal = URL(fileURLWithPath: dataDirectory).appendingPathComponent("anomalies.jsonl")
        self.log = log
    }

    /// Subscribes to the hub (bounded: when the analysis falls behind, the hub counts what it refuses)
    /// and starts the interval ticks.
    func start() {
        let (batches, feed) = AsyncStream<[[UInt8]]>.makeStream(bufferingPolicy: .bufferingOldest(1024))
        subscription = hub.add(.deliver { records, _ in
            if case .enqueued = feed.yield(records) { return true }
            return false
        }, filter: RecordFilter())
        tasks.append(Task { [weak self] in
            for await batch in batches { await self?.ingest(batch) }
        })
        let interval = Duration.nanoseconds(Int64(analyzer.interval))
        tasks.append(Task { [weak self] in
            while !Task.isCancelled {
                try? await Task.sleep(for: interval)
                await self?.tick()
            }
        })
        log("live analysis on: \(analyzer.interval / 1_000_000) ms intervals, anomalies to consumers and \(journal.path)")
    }

    func stop() {
        if let subscription { hub.remove(subscription) }
        tasks.forEach { $0.cancel() }
    }

    /// How our own anomaly records begin: they come back through the hub and are not measurements.
    private static let anomalyPrefix = Array(#"{"kind":"anomaly""#.utf8)

    private func ingest(_ batch: [[UInt8]]) {
        for record in batch {
            if record.starts(with: Self.anomalyPrefix) { continue }
            do {
                analyzer.ingest(try FlowRecord.parse(bytes: record))
            } catch {
                unparsed += 1
            }
        }
    }

    private func tick() {
        let anomalies = analyzer.tick(nowNs: UInt64(Date().timeIntervalSince1970 * 1e9))
        guard !anomalies.isEmpty else { return }
        hub.publish(format: .jsonLines, records: anomalies.map { JSONLineWriter.bytes($0.record) })
        let closed = anomalies.filter { $0.status == "closed" }
        for a in anomalies {
            log("anomaly \(a.status): \(a.namespace)/\(a.pod) \(a.kind)\(a.uri.map { " " + $0 } ?? "") score \(String(format: "%.1f", a.score))")
        }
        guard !closed.isEmpty else { return }
        let lines = Data(closed.map { $0.jsonLine() + "\n" }.joined().utf8)
        do {
            if !FileManager.default.fileExists(atPath: journal.path) {
                _ = FileManager.default.createFile(atPath: journal.path, contents: nil)
            }
            let handle = try FileHandle(forWritingTo: journal)
            defer { try? handle.close() }
            try handle.seekToEnd()
            try handle.write(contentsOf: lines)
        } catch {
            log("cannot append to \(journal.path): \(error); \(closed.count) closed anomalies went to consumers only")
        }
    }
}
