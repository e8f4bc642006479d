import NIOCore
import NetobsRecords
import NetobsWire
import Synchronization

/// Fan-out of stored records to subscribed consumers, each with its own filter.
///
/// Each published record is parsed at most once (into a `RecordView`), and that view is shared
/// by every subscriber's filter and by the observer (the metrics), so the cost of a publish
/// grows with subscribers only by the filter checks and the sends. A subscriber that cannot take
/// records (a channel that is not writable, an in-process sink that is full) has them dropped
/// and counted, never buffered without bound; frame subscribers see the count in the next
/// batch's `dropped`.
public final class StreamHub: Sendable {
    public struct SubscriberID: Hashable, Sendable { let value: UInt64 }

    /// Where a subscriber's records go.
    public enum Sink: Sendable {
        /// A binary-protocol consumer: StreamBatch frames replying to `correlationId`.
        case frames(Channel, correlationId: UInt64)
        /// An in-process consumer (the HTTP stream): gets the matching records and the count
        /// dropped before them; returns false when it could not take them (they are counted).
        case deliver(@Sendable (_ records: [[UInt8]], _ droppedBefore: UInt64) -> Bool)
    }

    /// Running totals, for the controller's own metrics.
    public struct Stats: Sendable, Equatable {
        public var subscribers = 0
        public var publishedRecords: UInt64 = 0
        /// Records that are not a JSON object (binary records included): they reach only
        /// subscribers without a filter, and no metrics.
        public var unparsedRecords: UInt64 = 0
        public var deliveredRecords: UInt64 = 0
        public var droppedRecords: UInt64 = 0
    }

    public typealias Observer = @Sendable (_ views: [RecordView]) -> Void

    private struct Subscriber {
        let sink: Sink
        let filter: RecordFilter
        var sequence: UInt64 = 0
        var dropped: UInt64 = 0
    }

    private struct State {
        var nextId: UInt64 = 1
        var subscribers: [UInt64: Subscriber] = [:]
        /// Subscribers whose filter must read the records.
        var filtering = 0
        /// Filtering subscribers by the namespace they ask for: a record is checked only against
        /// those of its own namespaces, so 100 consumers of 100 namespaces cost a record two
        /// lookups, not 100 filter checks.
        var byNamespace: [String: [UInt64]] = [:]
        /// Filtering subscribers with no namespace: checked against every record.
        var anyNamespace: [UInt64] = []
        var observer: Observer?
        var stats = Stats()
    }

    private let state = Mutex(State())

    public init() {}

    public var count: Int { state.withLock { $0.subscribers.count } }

    public var stats: Stats {
        state.withLock { s in
            var stats = s.stats
            stats.subscribers = s.subscribers.count
            return stats
        }
    }

    /// `observer` sees the view of every parsed record published from now on (one call per
    /// publish, outside the hub's lock).
    public func setObserver(_ observer: Observer?) { state.withLock { $0.observer = observer } }

    public func add(channel: Channel, correlationId: UInt64, filter: Subscribe) -> SubscriberID {
        add(.frames(channel, correlationId: correlationId), filter: RecordFilter(filter))
    }

    public func add(_ sink: Sink, filter: RecordFilter) -> SubscriberID {
        state.withLock { s in
            let id = s.nextId
            s.nextId += 1
            s.subscribers[id] = Subscriber(sink: sink, filter: filter)
            if !filter.selectsAll {
                s.filtering += 1
                if filter.namespace.isEmpty { s.anyNamespace.append(id) } else { s.byNamespace[filter.namespace, default: []].append(id) }
            }
            return SubscriberID(value: id)
        }
    }

    public func remove(_ id: SubscriberID) {
        state.withLock { s in
            guard let gone = s.subscribers.removeValue(forKey: id.value), !gone.filter.selectsAll else { return }
            s.filtering -= 1
            s.anyNamespace.removeAll { $0 == id.value }
            s.byNamespace[gone.filter.namespace]?.removeAll { $0 == id.value }
            if s.byNamespace[gone.filter.namespace]?.isEmpty == true { s.byNamespace[gone.filter.namespace] = nil }
        }
    }

    /// Sends `records` to every subscriber whose filter they pass, and their views to the observer.
    public func publish(format: RecordFormat, records: [[UInt8]]) {
        guard !records.isEmpty else { return }
        let (mustParse, observer) = state.withLock { ($0.filtering > 0 || $0.observer != nil, $0.observer) }
        // Parsed outside the lock: publishes from several agent sessions do not wait on each other.
        let views: [RecordView?] = mustParse && format == .jsonLines
            ? records.map { RecordView(json: $0) }
            : Array(repeating: nil, count: records.count)
        let unparsed = mustParse ? UInt64(views.lazy.filter { $0 == nil }.count) : 0

        let sends: [(id: UInt64, sink: Sink, batch: StreamBatch)] = state.withLock { s in
            s.stats.publishedRecords += UInt64(records.count)
            s.stats.unparsedRecords += unparsed
            let matches = s.filtering > 0 ? Self.match(views, s) : [:]
            var out: [(UInt64, Sink, StreamBatch)] = []
            for (id, var sub) in s.subscribers {
                let selected = sub.filter.selectsAll ? records : (matches[id] ?? []).map { records[$0] }
                guard !selected.isEmpty else { continue }
                if case .frames(let channel, _) = sub.sink, !channel.isWritable {
                    sub.dropped += UInt64(selected.count)
                    s.stats.droppedRecords += UInt64(selected.count)
                    s.subscribers[id] = sub
                    continue
                }
                sub.sequence += 1
                out.append((id, sub.sink, StreamBatch(sequence: sub.sequence, dropped: sub.dropped, format: format,
                                                      records: selected)))
                sub.dropped = 0
                s.subscribers[id] = sub
            }
            return out
        }
        var refused: [(id: UInt64, count: UInt64, carried: UInt64)] = []
        for (id, sink, batch) in sends {
            switch sink {
            case .frames(let channel, let correlationId):
                if let frame = try? Frame(.streamBatch(batch), correlationId: correlationId, flags: .reply) {
                    channel.writeAndFlush(frame, promise: nil)
                }
            case .deliver(let deliver):
                if !deliver(batch.records, batch.dropped) { refused.append((id, UInt64(batch.records.count), batch.dropped)) }
            }
        }
        let delivered = sends.reduce(0) { $0 + UInt64($1.batch.records.count) } - refused.reduce(0) { $0 + $1.count }
        state.withLock { s in
            s.stats.deliveredRecords += delivered
            for r in refused {
                s.stats.droppedRecords += r.count
                s.subscribers[r.id]?.dropped += r.count + r.carried  // still owed to the subscriber
            }
        }
        if let observer { observer(views.compactMap { $0 }) }
    }

    /// For each filtering subscriber, the indices of the records it selects, in order.
    private static func match(_ views: [RecordView?], _ s: State) -> [UInt64: [Int]] {
        var out: [UInt64: [Int]] = [:]
        for (i, view) in views.enumerated() {
            guard let v = view else { continue }
            for id in s.anyNamespace where s.subscribers[id]!.filter.matches(v) { out[id, default: []].append(i) }
            guard !s.byNamespace.isEmpty else { continue }
            for (n, ns) in [v.srcNamespace, v.dstNamespace, v.namespace].enumerated() where !ns.isEmpty {
                if (n > 0 && ns == v.srcNamespace) || (n > 1 && ns == v.dstNamespace) { continue }  // once per namespace
                for id in s.byNamespace[ns] ?? [] where s.subscribers[id]!.filter.matches(v) { out[id, default: []].append(i) }
            }
        }
        return out
    }
}

extension RecordFilter {
    /// The filter a consumer asked for over the wire.
    public init(_ s: Subscribe) {
        self.init(namespace: s.namespace, pod: s.pod, service: s.service, kind: s.kind, protocol: s.protocol,
                  status: s.status, anomaliesOnly: s.anomaliesOnly)
    }
}
