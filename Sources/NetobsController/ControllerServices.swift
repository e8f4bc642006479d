import NIOCore
import NIOPosix
import NetobsWire
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// What every session shares: the durable store, the stream hub, settings, counters and logs.
final class ControllerServices: Sendable {
    let store: AgentLogStore
    let hub: StreamHub
    let control: ControlPlane
    let diskPool: NIOThreadPool
    let log: ControllerLog
    let serverId: String
    let maxPayload: UInt32
    let heartbeatIntervalMs: UInt32
    let helloTimeout: TimeAmount
    let joiner: TopologyJoiner?
    let publisher: PublishQueue
    let counters = ControllerCounters()

    init(store: AgentLogStore, hub: StreamHub, control: ControlPlane, diskPool: NIOThreadPool, log: ControllerLog, serverId: String,
         maxPayload: UInt32, heartbeatIntervalMs: UInt32, helloTimeout: TimeAmount, joiner: TopologyJoiner?,
         publisher: PublishQueue) {
        self.store = store
        self.hub = hub
        self.control = control
        self.diskPool = diskPool
        self.log = log
        self.serverId = serverId
        self.maxPayload = maxPayload
        self.heartbeatIntervalMs = heartbeatIntervalMs
        self.helloTimeout = helloTimeout
        self.joiner = joiner
        self.publisher = publisher
    }

    /// Sends a stored batch to consumers, joined with the topology when there is one, on the
    /// publishing thread (after every batch stored before it); then retention may drop it.
    func publish(_ batch: FlowBatch) {
        let (hub, joiner, store) = (self.hub, self.joiner, self.store)
        publisher.enqueue(records: batch.records.count, bytes: batch.records.reduce(0) { $0 + $1.count }, {
            let records = batch.format == .jsonLines ? (joiner?.join(batch.records) ?? batch.records) : batch.records
            hub.publish(format: batch.format, records: records)
        }, settled: {
            store.markPublished(agentId: batch.agentId, sequence: batch.sequence)
        })
    }
}

/// Running totals, readable from any thread.
public final class ControllerCounters: Sendable {
    private let values = Mutex((batches: 0, records: 0, duplicates: 0))

    public var storedBatches: Int { values.withLock { $0.batches } }
    public var storedRecords: Int { values.withLock { $0.records } }
    public var duplicateBatches: Int { values.withLock { $0.duplicates } }

    func stored(records: Int) { values.withLock { $0.batches += 1; $0.records += records } }
    func duplicate() { values.withLock { $0.duplicates += 1 } }
}

enum WallClock {
    static func nowNs() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
    }
}
