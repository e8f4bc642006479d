import NetobsController
import NetobsRecords

/// One HTTP client's subscription to the hub: a bounded queue of batches between the hub's
/// publish (which must never wait) and the response writer. When the queue is full the hub's
/// records are refused and counted, and the client sees the count in its stream.
final class RecordStream: Sendable {
    enum Item: Sendable {
        case records([[UInt8]], dropped: UInt64)
        case keepalive
    }

    /// Batches waiting for a slow client before the hub's records are refused.
    static let queuedBatches = 256

    let items: AsyncStream<Item>
    private let continuation: AsyncStream<Item>.Continuation
    private let hub: StreamHub
    private let id: StreamHub.SubscriberID

    init(hub: StreamHub, filter: RecordFilter) {
        let (items, continuation) = AsyncStream<Item>.makeStream(bufferingPolicy: .bufferingOldest(Self.queuedBatches))
        self.items = items
        self.continuation = continuation
        self.hub = hub
        id = hub.add(.deliver { records, dropped in
            if case .enqueued = continuation.yield(.records(records, dropped: dropped)) { return true }
            return false
        }, filter: filter)
        continuation.onTermination = { [hub, id] _ in hub.remove(id) }
    }

    func keepalive() { continuation.yield(.keepalive) }

    func finish() { continuation.finish() }
}
