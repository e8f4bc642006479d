import NetobsRecords
import NetobsWire

/// The most recent published records, for consumers that ask to see them before following
/// (Subscribe's `replayLast`): at most `capacity` records and `byteLimit` bytes, oldest evicted first.
struct RecordRing {
    struct Entry: Sendable {
        let format: RecordFormat
        let record: [UInt8]
    }

    /// What a record costs in memory beyond its bytes (the array's header), counted against the limit.
    static let overhead = 32

    let capacity: Int
    let byteLimit: Int
    private var slots: [Entry?]
    private var head = 0
    private(set) var count = 0
    private(set) var bytes = 0

    init(capacity: Int, byteLimit: Int) {
        self.capacity = max(0, capacity)
        self.byteLimit = byteLimit
        slots = Array(repeating: nil, count: self.capacity)
    }

    mutating func append<C: Collection<[UInt8]>>(_ records: C, format: RecordFormat) {
        for record in records {
            let cost = record.count + Self.overhead
            guard capacity > 0, cost <= byteLimit else { continue }
            while count == capacity || bytes + cost > byteLimit { removeOldest() }
            slots[(head + count) % capacity] = Entry(format: format, record: record)
            count += 1
            bytes += cost
        }
    }

    /// Every record held, oldest first.
    var entries: [Entry] { (0..<count).map { slots[(head + $0) % capacity]! } }

    private mutating func removeOldest() {
        bytes -= slots[head]!.record.count + Self.overhead
        slots[head] = nil
        head = (head + 1) % capacity
        count -= 1
    }

    /// The last `limit` of `entries` that `filter` selects, oldest first. As for live records, a
    /// record that is not a JSON object passes only a filter that selects everything.
    static func lastMatching(_ entries: [Entry], filter: RecordFilter, limit: Int) -> [Entry] {
        var picked: [Entry] = []
        for entry in entries.reversed() {
            guard picked.count < limit else { break }
            if filter.selectsAll {
                picked.append(entry)
            } else if entry.format == .jsonLines, let view = RecordView(filter.fieldsRead, of: entry.record), filter.matches(view) {
                picked.append(entry)
            }
        }
        return picked.reversed()
    }
}
