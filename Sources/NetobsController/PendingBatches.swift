import NetobsWire

/// What one frame subscriber is owed until its next flush: its records in publish order, cut into
/// as few StreamBatches as the frame size allows.
///
/// Live records are bounded (`limit` bytes waiting): a record that does not fit is dropped and
/// counted, and the count rides on the next record that does fit (its batch's `dropped`), so the
/// consumer learns where the gap is, or on an empty batch at the next flush. A replay goes in front of the live records and is not held
/// to that limit (the replay ring bounds it); its last batch says `replayEnd`.
struct PendingBatches {
    /// A run of records of one format that follow one another with no gap.
    private struct Segment {
        var format: RecordFormat
        var records: [[UInt8]] = []
        var droppedBefore: UInt64 = 0
        var endsReplay = false
    }

    private var segments: [Segment] = []
    /// Bytes of live records waiting (what `limit` applies to).
    private(set) var liveBytes = 0
    /// Bytes waiting, replay included.
    private(set) var bytes = 0
    /// Dropped after the last record waiting; told with the next record that fits, or at the
    /// next flush.
    private(set) var owedDrops: UInt64 = 0
    /// The last StreamBatch sequence handed out (the first batch is 1).
    private(set) var sequence: UInt64 = 0

    var isEmpty: Bool { segments.isEmpty }

    /// A record's share of a StreamBatch payload: its bytes and their length prefix.
    static func size(_ record: [UInt8]) -> Int { record.count + 3 }

    /// Queues `records`, in order, while they fit under `limit` live bytes; returns how many it dropped.
    mutating func append<C: Collection<[UInt8]>>(_ records: C, format: RecordFormat, limit: Int) -> Int {
        var dropped = 0
        for record in records {
            let size = Self.size(record)
            guard liveBytes + size <= limit else {
                dropped += 1
                owedDrops += 1
                continue
            }
            if owedDrops > 0 || segments.last.map({ $0.format != format || $0.endsReplay }) ?? true {
                segments.append(Segment(format: format, droppedBefore: owedDrops))
                owedDrops = 0
            }
            segments[segments.count - 1].records.append(record)
            liveBytes += size
            bytes += size
        }
        return dropped
    }

    /// Puts a replay (oldest first) in front of everything waiting; its last batch, or an empty
    /// batch when `replay` is empty, carries `replayEnd`.
    mutating func prependReplay(_ replay: [RecordRing.Entry]) {
        var runs: [Segment] = []
        for entry in replay {
            if runs.last?.format != entry.format { runs.append(Segment(format: entry.format)) }
            runs[runs.count - 1].records.append(entry.record)
            bytes += Self.size(entry.record)
        }
        if runs.isEmpty { runs.append(Segment(format: .jsonLines)) }
        runs[runs.count - 1].endsReplay = true
        segments.insert(contentsOf: runs, at: 0)
    }

    /// Everything waiting as numbered StreamBatches of at most `frameBytes` of records each (a
    /// larger single record goes alone). Drops after the last record go in an empty batch of
    /// their own: the consumer hears of them even when no record follows.
    mutating func take(frameBytes: Int) -> [StreamBatch] {
        var batches: [StreamBatch] = []
        for segment in segments {
            var start = 0
            repeat {
                var end = start
                var size = 0
                while end < segment.records.count, end - start < Limits.records,
                      end == start || size + Self.size(segment.records[end]) <= frameBytes {
                    size += Self.size(segment.records[end])
                    end += 1
                }
                sequence += 1
                batches.append(StreamBatch(sequence: sequence, dropped: start == 0 ? segment.droppedBefore : 0,
                                           format: segment.format, records: Array(segment.records[start..<end]),
                                           replayEnd: segment.endsReplay && end == segment.records.count))
                start = end
            } while start < segment.records.count
        }
        if owedDrops > 0 {
            sequence += 1
            batches.append(StreamBatch(sequence: sequence, dropped: owedDrops, format: .jsonLines, records: []))
            owedDrops = 0
        }
        segments = []
        liveBytes = 0
        bytes = 0
        return batches
    }

    /// Forgets everything waiting (the subscriber is gone); returns how many records that was.
    mutating func discard() -> Int {
        let n = segments.reduce(0) { $0 + $1.records.count }
        segments = []
        liveBytes = 0
        bytes = 0
        return n
    }
}
