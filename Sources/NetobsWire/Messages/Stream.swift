/// A consumer's request for the cluster-wide stream. Each filter is an exact match; the empty string
/// means "any". The frame's correlation id names the subscription: its StreamBatches reply to it.
public struct Subscribe: WireMessage {
    public static let type = MessageType.subscribe
    public static let version: UInt16 = 1

    public var namespace: String
    public var pod: String
    public var service: String
    /// Record kind: "tcp", "udp", "http", "dns", "anomaly", ...
    public var kind: String
    /// Application protocol, e.g. "http" or "dns".
    public var `protocol`: String
    /// Outcome, e.g. an HTTP status "503" or class "5xx", or a DNS rcode "NXDOMAIN".
    public var status: String
    public var anomaliesOnly: Bool
    /// Tagged field 0 (u32, sent only when > 0): first send up to this many of the most recent
    /// matching records the server still holds, then follow. Needs the `stream.replay` capability.
    public var replayLast: UInt32
    /// Tagged field 1 (sent only when not empty): further filters, ANDed with the fields above.
    /// Applied by servers with the `stream.match` capability; others ignore it.
    public var match: StreamMatch
    /// Tagged fields 2 and 3 (u64 unix ns, sent only when > 0): records whose `ts_ns` is at or
    /// after `sinceNs` and at or before `untilNs` (records without `ts_ns` pass). `stream.match`.
    public var sinceNs: UInt64
    public var untilNs: UInt64

    public init(namespace: String = "", pod: String = "", service: String = "", kind: String = "",
                protocol: String = "", status: String = "", anomaliesOnly: Bool = false, replayLast: UInt32 = 0,
                match: StreamMatch = StreamMatch(), sinceNs: UInt64 = 0, untilNs: UInt64 = 0) {
        self.namespace = namespace
        self.pod = pod
        self.service = service
        self.kind = kind
        self.protocol = `protocol`
        self.status = status
        self.anomaliesOnly = anomaliesOnly
        self.replayLast = replayLast
        self.match = match
        self.sinceNs = sinceNs
        self.untilNs = untilNs
    }

    public func encode(into w: inout ByteWriter) throws(WireError) {
        try w.string(namespace, limit: Limits.label, field: "subscribe.namespace")
        try w.string(pod, limit: Limits.name, field: "subscribe.pod")
        try w.string(service, limit: Limits.name, field: "subscribe.service")
        try w.string(kind, limit: Limits.label, field: "subscribe.kind")
        try w.string(`protocol`, limit: Limits.label, field: "subscribe.protocol")
        try w.string(status, limit: Limits.label, field: "subscribe.status")
        w.bool(anomaliesOnly)
        var tagged: [TaggedField] = []
        if replayLast > 0 {
            var v = ByteWriter(capacity: 4)
            v.u32(replayLast)
            tagged.append((tag: 0, value: v.bytes))
        }
        if !match.isEmpty {
            var v = ByteWriter(capacity: 64)
            try v.streamMatch(match, "subscribe.match")
            tagged.append((tag: 1, value: v.bytes))
        }
        for (tag, ns) in [(UInt32(2), sinceNs), (3, untilNs)] where ns > 0 {
            var v = ByteWriter(capacity: 8)
            v.u64(ns)
            tagged.append((tag: tag, value: v.bytes))
        }
        try w.taggedFields(tagged, "subscribe.tagged")
    }

    public init(from r: inout ByteReader) throws(WireError) {
        namespace = try r.string(limit: Limits.label, "subscribe.namespace")
        pod = try r.string(limit: Limits.name, "subscribe.pod")
        service = try r.string(limit: Limits.name, "subscribe.service")
        kind = try r.string(limit: Limits.label, "subscribe.kind")
        `protocol` = try r.string(limit: Limits.label, "subscribe.protocol")
        status = try r.string(limit: Limits.label, "subscribe.status")
        anomaliesOnly = try r.bool("subscribe.anomalies_only")
        var replay: UInt32 = 0
        var match = StreamMatch()
        var since: UInt64 = 0, until: UInt64 = 0
        try r.taggedFields("subscribe.tagged") { tag, v throws(WireError) in
            switch tag {
            case 0: replay = try v.u32("subscribe.replay_last")
            case 1: match = try v.streamMatch("subscribe.match")
            case 2: since = try v.u64("subscribe.since_ns")
            case 3: until = try v.u64("subscribe.until_ns")
            default: return false
            }
            return true
        }
        replayLast = replay
        self.match = match
        sinceNs = since
        untilNs = until
    }
}

/// Records for one subscription, already joined with topology.
public struct StreamBatch: WireMessage {
    public static let type = MessageType.streamBatch
    public static let version: UInt16 = 1

    /// Per subscription, starting at 1, so a consumer can see gaps.
    public var sequence: UInt64
    /// Records the controller dropped for this subscriber (it was too slow) since the previous batch.
    public var dropped: UInt64
    public var format: RecordFormat
    public var records: [[UInt8]]
    /// Tagged field 0 (bool, sent only when true): the last batch of the replay a Subscribe's
    /// `replayLast` asked for (possibly with no records); the batches after it are live.
    public var replayEnd: Bool

    public init(sequence: UInt64, dropped: UInt64 = 0, format: RecordFormat = .jsonLines, records: [[UInt8]],
                replayEnd: Bool = false) {
        self.sequence = sequence
        self.dropped = dropped
        self.format = format
        self.records = records
        self.replayEnd = replayEnd
    }

    public func encode(into w: inout ByteWriter) throws(WireError) {
        w.u64(sequence)
        w.u64(dropped)
        w.u8(format.rawValue)
        try w.records(records, "stream_batch.records")
        try w.taggedFields(replayEnd ? [(0, [1])] : [], "stream_batch.tagged")
    }

    public init(from r: inout ByteReader) throws(WireError) {
        sequence = try r.u64("stream_batch.sequence")
        dropped = try r.u64("stream_batch.dropped")
        format = RecordFormat(rawValue: try r.u8("stream_batch.format"))
        records = try r.records("stream_batch.records")
        var end = false
        try r.taggedFields("stream_batch.tagged") { tag, v throws(WireError) in
            guard tag == 0 else { return false }
            end = try v.bool("stream_batch.replay_end")
            return true
        }
        replayEnd = end
    }
}
