import NIOCore
import NetobsWire
import Synchronization

/// Fan-out of stored records to subscribed consumers. Each subscriber gets StreamBatches on its
/// own channel; one whose channel is not writable (it reads too slowly) has records dropped
/// and counted in the next batch's `dropped` rather than buffered without bound.
public final class StreamHub: Sendable {
    public struct SubscriberID: Hashable, Sendable { let value: UInt64 }

    private struct Subscriber {
        let channel: Channel
        let correlationId: UInt64
        let filter: Subscribe
        var sequence: UInt64 = 0
        var dropped: UInt64 = 0
    }

    private struct State {
        var nextId: UInt64 = 1
        var subscribers: [UInt64: Subscriber] = [:]
    }

    private let state = Mutex(State())

    public init() {}

    public var count: Int { state.withLock { $0.subscribers.count } }

    public func add(channel: Channel, correlationId: UInt64, filter: Subscribe) -> SubscriberID {
        state.withLock { s in
            let id = s.nextId
            s.nextId += 1
            s.subscribers[id] = Subscriber(channel: channel, correlationId: correlationId, filter: filter)
            return SubscriberID(value: id)
        }
    }

    public func remove(_ id: SubscriberID) {
        _ = state.withLock { $0.subscribers.removeValue(forKey: id.value) }
    }

    /// Sends `records` to every subscriber whose filter they pass.
    /// TODO(issue 4): namespace/pod/service/status filters need the topology join; only `kind`
    /// is applied now.
    public func publish(format: RecordFormat, records: [[UInt8]]) {
        guard !records.isEmpty else { return }
        let sends: [(Channel, Frame)] = state.withLock { s in
            var out: [(Channel, Frame)] = []
            for (id, var sub) in s.subscribers {
                let selected = sub.filter.kind.isEmpty
                    ? records : records.filter { RecordKind.of($0) == sub.filter.kind }
                guard !selected.isEmpty else { continue }
                if !sub.channel.isWritable {
                    sub.dropped += UInt64(selected.count)
                    s.subscribers[id] = sub
                    continue
                }
                sub.sequence += 1
                let batch = StreamBatch(sequence: sub.sequence, dropped: sub.dropped, format: format,
                                        records: selected)
                sub.dropped = 0
                s.subscribers[id] = sub
                if let frame = try? Frame(.streamBatch(batch), correlationId: sub.correlationId, flags: .reply) {
                    out.append((sub.channel, frame))
                }
            }
            return out
        }
        for (channel, frame) in sends { channel.writeAndFlush(frame, promise: nil) }
    }
}

/// The `kind` of a JSON-lines record without a JSON parser: the agent writes `{"kind":"…"` first.
enum RecordKind {
    static func of(_ record: [UInt8]) -> String {
        let prefix = Array(#"{"kind":""#.utf8)
        guard record.starts(with: prefix) else { return "" }
        let rest = record.dropFirst(prefix.count)
        guard let end = rest.firstIndex(of: UInt8(ascii: "\"")) else { return "" }
        return String(decoding: rest[..<end], as: UTF8.self)
    }
}
