import NIOCore
import NIOEmbedded
import Testing
@testable import NetobsController
import NetobsRecords
import NetobsWire

/// A record of namespace `ns` numbered `i` (the number is how tests check order and gaps).
private func record(_ i: Int, ns: String = "shop", kind: String = "http") -> [UInt8] {
    Array(#"{"kind":"\#(kind)","i":\#(i),"src_ns":"\#(ns)","src_pod":"front-1","dst_ns":"\#(ns)","dst_pod":"carts-1"}"#.utf8)
}

private func number(_ record: [UInt8]) -> Int {
    let text = String(decoding: record, as: UTF8.self)
    let digits = text.split(separator: "\"i\":")[1].prefix { $0.isNumber }
    return Int(digits)!
}

/// A consumer's connection as the hub sees it, on an embedded loop the test drives by hand.
private struct Consumer {
    let loop = EmbeddedEventLoop()
    let channel: EmbeddedChannel

    init() throws {
        channel = EmbeddedChannel(loop: loop)
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
    }

    /// The StreamBatches written so far, checked to reply to subscription 7.
    func batches() throws -> [StreamBatch] {
        var out: [StreamBatch] = []
        while let frame = try channel.readOutbound(as: Frame.self) {
            #expect(frame.correlationId == 7 && frame.flags.contains(.reply))
            guard case .streamBatch(let batch) = try frame.message() else { throw TestFailure("not a StreamBatch") }
            out.append(batch)
        }
        return out
    }
}

private struct TestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}

private func hub(frameBytes: Int = 128 * 1024, pendingBytes: Int = 512 * 1024, replay: Int = 100) -> StreamHub {
    var settings = StreamHub.Settings()
    settings.window = .milliseconds(5)
    settings.frameBytes = frameBytes
    settings.pendingBytes = pendingBytes
    settings.replayRecords = replay
    return StreamHub(settings: settings)
}

@Suite("stream hub: grouping, bounds and replay for frame subscribers")
struct StreamHubGroupingTests {
    @Test("agent batches within one window reach a consumer as one StreamBatch, in order, after the window")
    func groupsWithinTheWindow() throws {
        let consumer = try Consumer()
        let hub = hub()
        _ = hub.add(channel: consumer.channel, correlationId: 7, filter: Subscribe(kind: "http"))
        hub.publish(format: .jsonLines, records: [record(1), record(2, kind: "dns"), record(3)])
        hub.publish(format: .jsonLines, records: [record(4), record(5)])
        consumer.loop.run()
        #expect(try consumer.batches().isEmpty, "nothing before the window ends")
        consumer.loop.advanceTime(by: .milliseconds(5))
        let first = try consumer.batches()
        #expect(first.count == 1)
        #expect(first.first?.sequence == 1 && first.first?.dropped == 0 && first.first?.replayEnd == false)
        #expect(first.first?.records.map(number) == [1, 3, 4, 5])

        hub.publish(format: .jsonLines, records: [record(6)])
        consumer.loop.advanceTime(by: .milliseconds(5))
        let second = try consumer.batches()
        #expect(second.map(\.sequence) == [2] && second.first?.records.map(number) == [6])
        #expect(hub.stats.deliveredRecords == 5 && hub.stats.droppedRecords == 0)
    }

    @Test("a full frame goes out at once, and large backlogs are cut into frames of at most frameBytes, in order")
    func fullFramesGoAtOnce() throws {
        let consumer = try Consumer()
        let size = record(100).count + 3
        let hub = hub(frameBytes: size * 4)
        _ = hub.add(channel: consumer.channel, correlationId: 7, filter: Subscribe())
        hub.publish(format: .jsonLines, records: (100..<110).map { record($0) })
        consumer.loop.run()  // no time passes: only the immediate flush runs
        let batches = try consumer.batches()
        #expect(batches.map(\.records.count) == [4, 4, 2])
        #expect(batches.map(\.sequence) == [1, 2, 3])
        #expect(batches.flatMap(\.records).map(number) == Array(100..<110))
    }

    @Test("records beyond the pending limit are dropped, counted, and announced where the gap is, at the next flush")
    func dropsAreCountedWhereTheGapIs() throws {
        let consumer = try Consumer()
        let size = record(10).count + 3
        let hub = hub(pendingBytes: size * 2)
        _ = hub.add(channel: consumer.channel, correlationId: 7, filter: Subscribe(namespace: "shop"))
        hub.publish(format: .jsonLines, records: (10..<15).map { record($0) })  // 2 fit, 3 dropped
        #expect(hub.stats.droppedRecords == 3)
        consumer.loop.advanceTime(by: .milliseconds(5))
        hub.publish(format: .jsonLines, records: [record(15)])
        consumer.loop.advanceTime(by: .milliseconds(5))
        let batches = try consumer.batches()
        #expect(batches.map { $0.records.map(number) } == [[10, 11], [], [15]])
        #expect(batches.map(\.dropped) == [0, 3, 0])
        #expect(hub.stats.deliveredRecords == 3 && hub.stats.droppedRecords == 3)
    }

    @Test("a connection that cannot take more keeps its records (within the limit) until it can")
    func unwritableWaits() throws {
        let consumer = try Consumer()
        let hub = hub()
        _ = hub.add(channel: consumer.channel, correlationId: 7, filter: Subscribe())
        consumer.channel.isWritable = false
        hub.publish(format: .jsonLines, records: [record(1)])
        consumer.loop.advanceTime(by: .milliseconds(5))
        hub.publish(format: .jsonLines, records: [record(2)])
        consumer.loop.advanceTime(by: .milliseconds(5))
        #expect(try consumer.batches().isEmpty)
        consumer.channel.isWritable = true
        consumer.loop.advanceTime(by: .milliseconds(5))
        let batches = try consumer.batches()
        #expect(batches.count == 1 && batches.first?.records.map(number) == [1, 2])
        #expect(hub.stats.droppedRecords == 0)
    }

    @Test("a subscriber removed with records waiting gets nothing more; what it was owed counts as dropped")
    func removalWhilePending() throws {
        let consumer = try Consumer()
        let other = try Consumer()
        let hub = hub()
        let id = hub.add(channel: consumer.channel, correlationId: 7, filter: Subscribe())
        _ = hub.add(channel: other.channel, correlationId: 7, filter: Subscribe())
        hub.publish(format: .jsonLines, records: [record(1), record(2)])
        hub.remove(id)
        consumer.loop.advanceTime(by: .milliseconds(5))
        other.loop.advanceTime(by: .milliseconds(5))
        #expect(try consumer.batches().isEmpty)
        #expect(try other.batches().flatMap(\.records).map(number) == [1, 2])
        #expect(hub.count == 1 && hub.stats.droppedRecords == 2 && hub.stats.deliveredRecords == 2)
    }

    @Test("binary and JSON records published in turn keep their order, one format per batch")
    func formatsStayApart() throws {
        let consumer = try Consumer()
        let hub = hub()
        _ = hub.add(channel: consumer.channel, correlationId: 7, filter: Subscribe())
        hub.publish(format: .jsonLines, records: [record(1)])
        hub.publish(format: .binaryV1, records: [[0x01, 0x02]])
        hub.publish(format: .jsonLines, records: [record(2)])
        consumer.loop.advanceTime(by: .milliseconds(5))
        let batches = try consumer.batches()
        #expect(batches.map(\.format) == [.jsonLines, .binaryV1, .jsonLines])
        #expect(batches.map(\.sequence) == [1, 2, 3])
        #expect(batches[1].records == [[0x01, 0x02]])
    }

    @Test("replay: the last N matching records held, then the live ones, with no gap and no duplicate")
    func replayThenLive() throws {
        let consumer = try Consumer()
        let hub = hub(replay: 50)
        for i in 0..<80 { hub.publish(format: .jsonLines, records: [record(i, ns: i % 2 == 0 ? "shop" : "db")]) }
        // The ring holds 30...79; the shop ones among them are the even numbers.
        _ = hub.add(channel: consumer.channel, correlationId: 7, filter: Subscribe(namespace: "shop", replayLast: 5))
        hub.publish(format: .jsonLines, records: [record(80), record(81, ns: "db"), record(82)])
        consumer.loop.run()
        let replay = try consumer.batches()
        #expect(replay.count == 2)
        #expect(replay[0].records.map(number) == [70, 72, 74, 76, 78] && replay[0].replayEnd)
        #expect(replay[1].records.map(number) == [80, 82] && !replay[1].replayEnd)
        #expect(replay.map(\.sequence) == [1, 2])
        hub.publish(format: .jsonLines, records: [record(84)])
        consumer.loop.advanceTime(by: .milliseconds(5))
        #expect(try consumer.batches().map { $0.records.map(number) } == [[84]])
    }

    @Test("records published while a replay is prepared wait behind it, and reach the consumer after it")
    func publishedDuringReplay() throws {
        let consumer = try Consumer()
        let hub = hub(replay: 50)
        for i in 0..<10 { hub.publish(format: .jsonLines, records: [record(i)]) }
        let filter = RecordFilter(kind: "http")
        let (id, held) = hub.register(.frames(consumer.channel, correlationId: 7), filter: filter, replaying: true)
        hub.publish(format: .jsonLines, records: [record(10), record(11, kind: "dns"), record(12)])
        consumer.loop.advanceTime(by: .milliseconds(20))
        #expect(try consumer.batches().isEmpty, "nothing goes out before the replay")
        hub.installReplay(id, RecordRing.lastMatching(held, filter: filter, limit: 3))
        consumer.loop.run()
        let batches = try consumer.batches()
        #expect(batches.map { $0.records.map(number) } == [[7, 8, 9], [10, 12]])
        #expect(batches.map(\.replayEnd) == [true, false])
    }

    @Test("a subscriber removed before its replay is ready gets nothing")
    func removedDuringReplay() throws {
        let consumer = try Consumer()
        let hub = hub()
        hub.publish(format: .jsonLines, records: [record(1)])
        let (id, held) = hub.register(.frames(consumer.channel, correlationId: 7), filter: RecordFilter(), replaying: true)
        hub.publish(format: .jsonLines, records: [record(2)])
        hub.remove(StreamHub.SubscriberID(value: id))
        hub.installReplay(id, RecordRing.lastMatching(held, filter: RecordFilter(), limit: 5))
        consumer.loop.advanceTime(by: .milliseconds(20))
        #expect(try consumer.batches().isEmpty)
        #expect(hub.count == 0 && hub.stats.droppedRecords == 1)
    }

    @Test("replay asks for more than the ring holds, or nothing matches: what there is, and replayEnd regardless")
    func replayShortOrEmpty() throws {
        let hub = hub(replay: 4)
        for i in 0..<6 { hub.publish(format: .jsonLines, records: [record(i)]) }
        let all = try Consumer()
        _ = hub.add(channel: all.channel, correlationId: 7, filter: Subscribe(replayLast: 100))
        all.loop.run()
        let got = try all.batches()
        #expect(got.count == 1 && got[0].records.map(number) == [2, 3, 4, 5] && got[0].replayEnd)

        let none = try Consumer()
        _ = hub.add(channel: none.channel, correlationId: 7, filter: Subscribe(namespace: "nowhere", replayLast: 10))
        none.loop.run()
        let empty = try none.batches()
        #expect(empty.count == 1 && empty[0].records.isEmpty && empty[0].replayEnd && empty[0].sequence == 1)
    }

    @Test("in-process sinks still get each publish at once, and never a replay")
    func deliverSinksUnchanged() {
        let hub = hub()
        hub.publish(format: .jsonLines, records: [record(1)])
        final class Box: @unchecked Sendable { var got: [Int] = [] }
        let box = Box()
        _ = hub.add(.deliver { records, _ in box.got += records.map(number); return true }, filter: RecordFilter(), replayLast: 10)
        hub.publish(format: .jsonLines, records: [record(2), record(3)])
        #expect(box.got == [2, 3])
    }
}

@Suite("replay ring and pending batches (pure)")
struct ReplayRingTests {
    @Test("the ring keeps the newest records within its count and byte limits")
    func ringLimits() {
        var byCount = RecordRing(capacity: 3, byteLimit: 1 << 20)
        byCount.append((0..<5).map { record($0) }, format: .jsonLines)
        #expect(byCount.entries.map { number($0.record) } == [2, 3, 4])
        let size = record(0).count + RecordRing.overhead
        var byBytes = RecordRing(capacity: 100, byteLimit: size * 2)
        byBytes.append((0..<5).map { record($0) }, format: .jsonLines)
        #expect(byBytes.entries.map { number($0.record) } == [3, 4] && byBytes.bytes == size * 2)
        var none = RecordRing(capacity: 0, byteLimit: 1 << 20)
        none.append([record(1)], format: .jsonLines)
        #expect(none.entries.isEmpty)
    }

    @Test("only a filter that selects everything replays records that are not JSON objects")
    func replayFilterLikeLive() {
        var ring = RecordRing(capacity: 10, byteLimit: 1 << 20)
        ring.append([record(1)], format: .jsonLines)
        ring.append([[0xff]], format: .binaryV1)
        ring.append([Array("not json".utf8), record(2, kind: "dns")], format: .jsonLines)
        #expect(RecordRing.lastMatching(ring.entries, filter: RecordFilter(), limit: 10).count == 4)
        #expect(RecordRing.lastMatching(ring.entries, filter: RecordFilter(), limit: 2).map(\.record)
                == [Array("not json".utf8), record(2, kind: "dns")])
        #expect(RecordRing.lastMatching(ring.entries, filter: RecordFilter(kind: "http"), limit: 10).map { number($0.record) } == [1])
    }

    @Test("drops after the last record waiting are told in an empty batch at the flush, even with no record after them")
    func owedDrops() {
        var pending = PendingBatches()
        let size = PendingBatches.size(record(0))
        #expect(pending.append([record(0), record(1)], format: .jsonLines, limit: size) == 1)
        #expect(pending.owedDrops == 1)
        let first = pending.take(frameBytes: 1 << 20)
        #expect(first.map(\.records.count) == [1, 0] && first.map(\.dropped) == [0, 1])
        #expect(pending.owedDrops == 0 && pending.isEmpty)
        #expect(pending.append([record(2)], format: .jsonLines, limit: size) == 0)
        let second = pending.take(frameBytes: 1 << 20)
        #expect(second.map(\.dropped) == [0] && second.map(\.sequence) == [3])
    }

    @Test("a replay goes in front of live records and ends on its own batch")
    func replayInFront() {
        var pending = PendingBatches()
        _ = pending.append([record(9)], format: .jsonLines, limit: 1 << 20)
        pending.prependReplay([RecordRing.Entry(format: .jsonLines, record: record(7)),
                               RecordRing.Entry(format: .jsonLines, record: record(8))])
        #expect(pending.liveBytes == PendingBatches.size(record(9)))
        let batches = pending.take(frameBytes: 1 << 20)
        #expect(batches.map { $0.records.map(number) } == [[7, 8], [9]])
        #expect(batches.map(\.replayEnd) == [true, false])
    }
}
