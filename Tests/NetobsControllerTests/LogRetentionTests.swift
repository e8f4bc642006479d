import Foundation
import Synchronization
import Testing
@testable import NetobsController
import NetobsWire

/// `size`-byte records, so that every entry of `count` of them is the same size.
func fixedRecords(batch: Int, count: Int, size: Int = 500) -> [[UInt8]] {
    (0..<count).map { i in
        let head = Array(#"{"kind":"tcp","batch":\#(batch),"i":\#(i),"pad":""#.utf8)
        return head + Array(repeating: UInt8(ascii: "x"), count: size - head.count - 2) + Array(#""}"#.utf8)
    }
}

/// A clock the test moves.
final class TestClock: Sendable {
    private let ns = Atomic<UInt64>(1_000_000_000_000)
    var now: UInt64 { ns.load(ordering: .relaxed) }
    func advance(seconds: UInt64) { ns.add(seconds * 1_000_000_000, ordering: .relaxed) }
    var function: @Sendable () -> UInt64 { { self.now } }
}

func segmentNames(_ dir: String) throws -> [String] {
    try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasPrefix("batches-") }.sorted()
}

@Suite("durable log: segments and retention")
struct LogRetentionTests {
    /// Three 500-byte records: 8 + 13 + 3 × 504 = 1,533 bytes.
    static let entryBytes = LogEntry(sequence: 1, format: .jsonLines, records: fixedRecords(batch: 1, count: 3)).encoded().count

    @Test("segments roll at their size and are named after their first sequence")
    func rolling() throws {
        #expect(Self.entryBytes == 1_533)
        let dir = temporaryDirectory("segments")
        let store = try AgentLogStore(directory: dir, retention: LogRetention(maxBytes: nil, segmentBytes: 4096))
        for seq in 1...7 {
            #expect(try store.append(agentId: "a", sequence: UInt64(seq), format: .jsonLines,
                                     records: fixedRecords(batch: seq, count: 3)) == .stored)
        }
        // Two entries fit under 4,096 bytes; the third begins a segment.
        #expect(try segmentNames(store.agentDirectory("a")) == [1, 3, 5, 7].map(SegmentName.name))
        #expect(store.stats.bytes == 7 * Self.entryBytes && store.stats.segments == 4)
        let reopened = try AgentLogStore(directory: dir)
        #expect(try reopened.entries(agentId: "a").map(\.sequence) == Array(1...7))
        #expect(try reopened.highestSequence(agentId: "a") == 7)
    }

    @Test("over the byte bound, the oldest published segments go, down to the low-water mark; counts are exact")
    func byBytes() throws {
        let lines = LogLines()
        let store = try AgentLogStore(directory: temporaryDirectory("retention"), retention: LogRetention(maxBytes: 10_000),
                                      log: ControllerLog(lines.sink))
        // 10,000 / 8 is under the smallest segment: 4,096 bytes, two entries each. Low water 9,375.
        #expect(store.retention.segmentTarget(agents: 1) == 4096)
        for seq in 1...20 {
            _ = try store.append(agentId: "a", sequence: UInt64(seq), format: .jsonLines, records: fixedRecords(batch: seq, count: 3))
            store.markPublished(agentId: "a", through: UInt64(seq))
            #expect(store.stats.bytes <= 10_000 + Self.entryBytes)
        }
        // 7 entries are 10,731 bytes: at 7, 9, …, 19 the oldest two-entry segment goes (7,665 left).
        #expect(try store.entries(agentId: "a").map(\.sequence) == Array(15...20))
        #expect(store.stats.dropped == ["a": [.bytes: DropCount(batches: 14, records: 42)]])
        #expect(store.stats.bytes == 6 * Self.entryBytes && store.stats.bytes <= 10_000)
        let told = lines.lines.filter { $0.contains("log retention (over 10000 bytes of logs): dropped batches") }
        #expect(told.count == 7, "\(lines.lines)")
        #expect(told.first?.contains("dropped batches 1…2 of a (2 batches, 6 records, 3066 bytes)") == true, "\(told)")
        // Exactly once survives the drops, also after a restart.
        #expect(try store.append(agentId: "a", sequence: 3, format: .jsonLines, records: []) == .duplicate(highest: 20))
        let reopened = try AgentLogStore(directory: store.directory)
        #expect(try reopened.highestSequence(agentId: "a") == 20)
        #expect(try reopened.entries(agentId: "a").map(\.sequence) == Array(15...20))
    }

    @Test("retention never drops a batch not yet published; once it is, the bound holds again")
    func waitsForPublish() throws {
        let store = try AgentLogStore(directory: temporaryDirectory("retention"), retention: LogRetention(maxBytes: 10_000))
        for seq in 1...20 {
            _ = try store.append(agentId: "a", sequence: UInt64(seq), format: .jsonLines, records: fixedRecords(batch: seq, count: 3))
            store.markPublished(agentId: "a", through: min(UInt64(seq), 4))
        }
        // Only the segments of 1…4 could go; the bound is exceeded rather than an unpublished batch lost.
        #expect(try store.entries(agentId: "a").map(\.sequence) == Array(5...20))
        #expect(store.stats.dropped["a"]?[.bytes] == DropCount(batches: 4, records: 12))
        #expect(store.stats.bytes == 16 * Self.entryBytes)
        store.markPublished(agentId: "a", through: 20)
        store.enforceRetention()
        #expect(store.stats.bytes <= 9_375)
        #expect(try store.entries(agentId: "a").map(\.sequence) == Array(15...20))
        #expect(store.stats.dropped["a"]?[.bytes] == DropCount(batches: 14, records: 42))
    }

    @Test("the byte bound is over all agents: the segment whose newest batch is oldest goes first")
    func acrossAgents() throws {
        let clock = TestClock()
        let store = try AgentLogStore(directory: temporaryDirectory("retention"), retention: LogRetention(maxBytes: 12_000),
                                      log: .silent, clock: clock.function)
        // Segments of two entries (the 4,096-byte floor). Each time the total passes 12,000 bytes
        // (8th, 10th, 12th append), the segment whose newest entry is oldest goes, down to 11,250.
        var order: [String] = []
        for seq in 1...4 {
            for agent in ["b", "a", "c"] {
                clock.advance(seconds: 1)
                _ = try store.append(agentId: agent, sequence: UInt64(seq), format: .jsonLines, records: fixedRecords(batch: seq, count: 3))
                store.markPublished(agentId: agent, through: UInt64(seq))
                for dropped in store.stats.dropped.keys.sorted() where !order.contains(dropped) { order.append(dropped) }
            }
        }
        #expect(order == ["b", "a", "c"])
        for agent in ["a", "b", "c"] {
            #expect(try store.entries(agentId: agent).map(\.sequence) == [3, 4], "\(agent)")
            #expect(store.stats.dropped[agent] == [.bytes: DropCount(batches: 2, records: 6)], "\(agent)")
        }
    }

    @Test("past the age bound whole segments go, the last one too; the highest sequence stays known")
    func byAge() throws {
        let clock = TestClock()
        let dir = temporaryDirectory("retention")
        let store = try AgentLogStore(directory: dir, retention: LogRetention(maxBytes: nil, maxAgeNs: 100_000_000_000),
                                      log: .silent, clock: clock.function)
        func append(_ seq: Int) throws {
            _ = try store.append(agentId: "a", sequence: UInt64(seq), format: .jsonLines, records: fixedRecords(batch: seq, count: 3))
            store.markPublished(agentId: "a", through: UInt64(seq))
        }
        try append(1)
        try append(2)
        clock.advance(seconds: 20)
        try append(3)   // the segment begun 20 s ago is past an eighth of the bound: a new one
        #expect(try segmentNames(store.agentDirectory("a")) == [1, 3].map(SegmentName.name))
        clock.advance(seconds: 90)   // 1 and 2 are 110 s old, 3 is 90 s old
        store.enforceRetention()
        #expect(try store.entries(agentId: "a").map(\.sequence) == [3])
        #expect(store.stats.dropped["a"] == [.age: DropCount(batches: 2, records: 6)])
        clock.advance(seconds: 15)
        store.enforceRetention()
        #expect(try store.entries(agentId: "a").isEmpty)
        #expect(store.stats.dropped["a"] == [.age: DropCount(batches: 3, records: 9)])
        // What is left is an empty segment whose name keeps the highest sequence.
        #expect(try segmentNames(store.agentDirectory("a")) == [SegmentName.name(4)])
        let reopened = try AgentLogStore(directory: dir)
        #expect(try reopened.highestSequence(agentId: "a") == 3)
        #expect(try reopened.append(agentId: "a", sequence: 3, format: .jsonLines, records: []) == .duplicate(highest: 3))
        #expect(try reopened.append(agentId: "a", sequence: 4, format: .jsonLines, records: fixedRecords(batch: 4, count: 3)) == .stored)
        #expect(try reopened.entries(agentId: "a").map(\.sequence) == [4])
    }

    @Test("an agent id and its directory name map both ways")
    func directoryNames() {
        for id in ["node-1", "node/1", "../x", ".hidden", "ünïcode", "a%b", ""] {
            let name = AgentLogStore.directoryName(for: id)
            #expect(!name.contains("/") && name != "." && name != "..")
            #expect(AgentLogStore.agentId(directoryName: name) == id, "\(id) -> \(name)")
        }
        #expect(AgentLogStore.agentId(directoryName: "%zz") == nil)
        #expect(AgentLogStore.agentId(directoryName: "%41") == nil)   // "A" is written as itself
    }

    @Test("sizes and durations as operators write them")
    func parsing() {
        #expect(ByteCount.parse("64M") == 64 << 20)
        #expect(ByteCount.parse("1G") == 1 << 30)
        #expect(ByteCount.parse("16GiB") == 16 << 30)
        #expect(ByteCount.parse("512Ki") == 512 << 10)
        #expect(ByteCount.parse("4096") == 4096)
        #expect(ByteCount.parse("0") == 0)
        #expect(ByteCount.parse("12X") == nil && ByteCount.parse("M") == nil && ByteCount.parse("-1") == nil)
        #expect(ByteCount.parseDuration("90m") == 5_400_000_000_000)
        #expect(ByteCount.parseDuration("7d") == 604_800_000_000_000)
        #expect(ByteCount.parseDuration("7") == nil && ByteCount.parseDuration("d") == nil)
        #expect(LogRetention(maxBytes: 0).maxBytes == nil)
        #expect(LogRetention(maxBytes: 64 << 20).segmentTarget(agents: 1_000) == (64 << 20) / 8_000)
        #expect(LogRetention().segmentTarget(agents: 10) == 64 << 20 / 5)
    }
}
