import NIOCore
import NetobsRecords
import NetobsWire
import Synchronization

/// Fan-out of stored records to subscribed consumers, each with its own filter.
///
/// Each published record is parsed at most once (into a `RecordView`), and that view is shared
/// by every subscriber's filter and by the observer (the metrics). A publish does no I/O for
/// binary-protocol subscribers: it appends their records to what they are owed, and each event
/// loop flushes its subscribers once per `Settings.window` (sooner when a frame is full), one
/// StreamBatch and one flush per subscriber rather than one per agent batch. Nothing is buffered
/// without bound: a subscriber whose owed records exceed `Settings.pendingBytes` (it reads too
/// slowly) has the rest dropped and counted, and sees the count in the batch after the gap; an
/// in-process sink that refuses records has them counted the same way.
public final class StreamHub: Sendable {
    public struct SubscriberID: Hashable, Sendable { let value: UInt64 }

    /// Where a subscriber's records go.
    public enum Sink: Sendable {
        /// A binary-protocol consumer: StreamBatch frames replying to `correlationId`.
        case frames(Channel, correlationId: UInt64)
        /// An in-process consumer (the HTTP stream), called during the publish: gets the matching
        /// records and the count dropped before them; returns false when it could not take them
        /// (they are counted).
        case deliver(@Sendable (_ records: [[UInt8]], _ droppedBefore: UInt64) -> Bool)
    }

    public struct Settings: Sendable {
        /// How long a frame subscriber's records wait to be grouped into one StreamBatch. Per-frame
        /// costs (TLS record, write, loopback or NIC path, wake-up) are paid on the event loops
        /// that also take agents' batches: in the consumer benchmark (consumers in their own
        /// process, the controller on one core) 100 filtered consumers kept 0.86 of the ingest
        /// rate with 25 ms, 0.90-0.96 with 100 ms.
        public var window: TimeAmount = .milliseconds(100)
        /// A StreamBatch's records stop at this many bytes; a subscriber with a full one is
        /// flushed at once.
        public var frameBytes = 128 * 1024
        /// Live bytes a frame subscriber may have waiting; more are dropped and counted. A consumer
        /// of a whole 1,000-node stream (50k records/s, 15 MB/s) gets ~130 ms of slack: with
        /// 512 KiB it lost 4% of the fleet benchmark's bursts.
        public var pendingBytes = 2 * 1024 * 1024
        /// Recent records kept for Subscribe's `replayLast`: at most this many, and `replayBytes`.
        public var replayRecords = 10_000
        public var replayBytes = 32 * 1024 * 1024
        /// Bytes of stored records that may wait for the publishing thread (`PublishQueue`);
        /// past it, batches are not published to consumers (counted; they stay stored).
        public var publishBacklogBytes = 64 * 1024 * 1024

        public init() {}
    }

    /// Running totals, for the controller's own metrics.
    public struct Stats: Sendable, Equatable {
        public var subscribers = 0
        public var publishedRecords: UInt64 = 0
        /// Records that are not a JSON object (binary records included): they reach only
        /// subscribers without a filter, and no metrics.
        public var unparsedRecords: UInt64 = 0
        /// Records handed to a sink or written to a consumer's connection.
        public var deliveredRecords: UInt64 = 0
        public var droppedRecords: UInt64 = 0
    }

    public typealias Observer = @Sendable (_ views: [RecordView]) -> Void

    /// Only touched under the hub's lock.
    final class Subscriber {
        let id: UInt64
        let sink: Sink
        let filter: RecordFilter
        /// Filtering subscribers: the records of the publish under way that it selects.
        var selected: [[UInt8]] = []
        /// Frame subscribers: what the next flush sends.
        var pending = PendingBatches()
        /// Frame subscribers: waiting for their replay, so not flushed yet.
        var replaying = false
        /// Frame subscribers: in their loop's queue for the next flush.
        var queued = false
        /// In-process sinks: refused records not yet told.
        var dropped: UInt64 = 0

        init(id: UInt64, sink: Sink, filter: RecordFilter) {
            self.id = id
            self.sink = sink
            self.filter = filter
        }

        var channel: Channel? {
            if case .frames(let channel, _) = sink { return channel }
            return nil
        }
    }

    struct State {
        var nextId: UInt64 = 1
        var subscribers: [UInt64: Subscriber] = [:]
        /// Subscribers with no filter: every record.
        var unfiltered: [Subscriber] = []
        /// Subscribers whose filter must read the records.
        var filtering = 0
        /// What their filters read: a publish parses only these fields.
        var filterFields: RecordView.FilterFields = []
        /// Filtering subscribers by the namespace they ask for: a record is checked only against
        /// those of its own namespaces, so 100 consumers of 100 namespaces cost a record two
        /// lookups, not 100 filter checks.
        var byNamespace: [String: [Subscriber]] = [:]
        /// Filtering subscribers with no namespace: checked against every record.
        var anyNamespace: [Subscriber] = []
        /// Per event loop, the frame subscribers with records waiting and the flush armed for them.
        var loops: [ObjectIdentifier: LoopQueue] = [:]
        var ring: RecordRing
        var observer: Observer?
        var stats = Stats()
    }

    let settings: Settings
    let state: Mutex<State>

    public init(settings: Settings = Settings()) {
        self.settings = settings
        state = Mutex(State(ring: RecordRing(capacity: settings.replayRecords, byteLimit: settings.replayBytes)))
    }

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

    /// A binary-protocol consumer; with `filter.replayLast`, the last that many matching records
    /// the hub still holds go first (the live ones follow with no gap and no duplicate).
    public func add(channel: Channel, correlationId: UInt64, filter: Subscribe) -> SubscriberID {
        add(.frames(channel, correlationId: correlationId), filter: RecordFilter(filter), replayLast: Int(filter.replayLast))
    }

    /// `replayLast` applies to frame sinks only.
    public func add(_ sink: Sink, filter: RecordFilter, replayLast: Int = 0) -> SubscriberID {
        let replay = replayLast > 0 && sink.isFrames
        let (id, held) = register(sink, filter: filter, replaying: replay)
        // Filtered outside the lock; what is published meanwhile waits behind the replay.
        if replay { installReplay(id, RecordRing.lastMatching(held, filter: filter, limit: replayLast)) }
        return SubscriberID(value: id)
    }

    /// Registers a subscriber; with `replaying`, also returns the records held at that moment
    /// (every later publish reaches the subscriber, so the two meet with no gap and no repeat) and
    /// holds its flushes until `installReplay`.
    func register(_ sink: Sink, filter: RecordFilter, replaying: Bool) -> (id: UInt64, held: [RecordRing.Entry]) {
        state.withLock { s in
            let id = s.nextId
            s.nextId += 1
            let subscriber = Subscriber(id: id, sink: sink, filter: filter)
            subscriber.replaying = replaying
            s.subscribers[id] = subscriber
            if filter.selectsAll {
                s.unfiltered.append(subscriber)
            } else {
                s.filtering += 1
                s.filterFields.formUnion(filter.fieldsRead)
                if filter.namespace.isEmpty {
                    s.anyNamespace.append(subscriber)
                } else {
                    s.byNamespace[filter.namespace, default: []].append(subscriber)
                }
            }
            return (id, replaying ? s.ring.entries : [])
        }
    }

    public func remove(_ id: SubscriberID) {
        state.withLock { s in
            guard let gone = s.subscribers.removeValue(forKey: id.value) else { return }
            // Its queued flush finds it gone; what it was owed is counted as dropped.
            s.stats.droppedRecords += UInt64(gone.pending.discard())
            guard !gone.filter.selectsAll else {
                s.unfiltered.removeAll { $0 === gone }
                return
            }
            s.filtering -= 1
            s.filterFields = s.subscribers.values.reduce(into: []) { $0.formUnion($1.filter.fieldsRead) }
            s.anyNamespace.removeAll { $0 === gone }
            s.byNamespace[gone.filter.namespace]?.removeAll { $0 === gone }
            if s.byNamespace[gone.filter.namespace]?.isEmpty == true { s.byNamespace[gone.filter.namespace] = nil }
        }
    }

    /// Hands `records` to every subscriber whose filter they pass, and their views to the observer.
    public func publish(format: RecordFormat, records: [[UInt8]]) {
        guard !records.isEmpty else { return }
        let (fields, observer) = state.withLock { ($0.filterFields, $0.observer) }
        // Parsed outside the lock: other publishers (the live analysis) do not wait on it. Without
        // an observer, only the fields the filters read.
        let json = format == .jsonLines
        let parsed: RecordView.FilterFields = !json ? [] : observer != nil ? .all : fields
        var views: [RecordView?] = parsed.isEmpty ? Array(repeating: nil, count: records.count)
            : observer != nil ? records.map { RecordView(json: $0) }
            : records.map { RecordView(fields, of: $0) }

        let (deliveries, flushes) = state.withLock { s in
            if json && !s.filterFields.isSubset(of: parsed) {
                // A subscriber whose filter reads more came in meanwhile: it must see this publish
                // too (no gap after its replay), so read the records again here, once.
                views = records.map { RecordView(s.filterFields, of: $0) }
            }
            s.stats.publishedRecords += UInt64(records.count)
            if s.filtering > 0 || observer != nil { s.stats.unparsedRecords += UInt64(views.lazy.filter { $0 == nil }.count) }
            s.ring.append(records, format: format)
            let selecting = s.filtering > 0 ? s.select(records, views) : []
            var deliveries: [(id: UInt64, deliver: @Sendable ([[UInt8]], UInt64) -> Bool, records: [[UInt8]], dropped: UInt64)] = []
            var flushes: [FlushRequest] = []
            func hand(_ sub: Subscriber, _ selected: [[UInt8]]) {
                switch sub.sink {
                case .deliver(let deliver):
                    deliveries.append((sub.id, deliver, selected, sub.dropped))
                    sub.dropped = 0
                case .frames(let channel, _):
                    s.stats.droppedRecords += UInt64(sub.pending.append(selected, format: format, limit: settings.pendingBytes))
                    let urgent = sub.pending.bytes >= settings.frameBytes
                    // A queued subscriber's loop has a flush armed already: only a full frame needs more.
                    if !sub.replaying, !sub.pending.isEmpty, !sub.queued || urgent,
                       let request = s.queue(sub.id, on: channel.eventLoop, urgent: urgent) {
                        flushes.append(request)
                    }
                }
            }
            for sub in s.unfiltered { hand(sub, records) }
            for sub in selecting {
                hand(sub, sub.selected)
                sub.selected.removeAll(keepingCapacity: true)
            }
            return (deliveries, flushes)
        }
        flushes.forEach(schedule)
        var delivered: UInt64 = 0
        var refused: [(id: UInt64, count: UInt64, carried: UInt64)] = []
        for d in deliveries {
            if d.deliver(d.records, d.dropped) {
                delivered += UInt64(d.records.count)
            } else {
                refused.append((d.id, UInt64(d.records.count), d.dropped))
            }
        }
        if !deliveries.isEmpty {
            state.withLock { s in
                s.stats.deliveredRecords += delivered
                for r in refused {
                    s.stats.droppedRecords += r.count
                    s.subscribers[r.id]?.dropped += r.count + r.carried  // still owed to the subscriber
                }
            }
        }
        if let observer { observer(views.compactMap { $0 }) }
    }
}

extension StreamHub.Sink {
    var isFrames: Bool {
        if case .frames = self { return true }
        return false
    }
}

extension RecordFilter {
    /// The filter a consumer asked for over the wire. Match clauses this controller cannot use
    /// only widen the selection (`RecordMatch(lenient:)`); the consumer filters again.
    public init(_ s: Subscribe) {
        self.init(namespace: s.namespace, pod: s.pod, service: s.service, kind: s.kind, protocol: s.protocol,
                  status: s.status, anomaliesOnly: s.anomaliesOnly,
                  match: RecordMatch(lenient: s.match, sinceNs: s.sinceNs, untilNs: s.untilNs))
    }
}
