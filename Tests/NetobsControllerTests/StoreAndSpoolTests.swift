import Foundation
import Testing
import NetobsAgentLink
@testable import NetobsController
import NetobsWire

@Suite("durable log and spool")
struct StoreAndSpoolTests {
    @Test("the store keeps each sequence once and survives reopening")
    func exactlyOnce() throws {
        let dir = temporaryDirectory("store")
        let store = try AgentLogStore(directory: dir)
        #expect(try store.append(agentId: "node/1", sequence: 1, format: .jsonLines, records: records(batch: 1, count: 3)) == .stored)
        #expect(try store.append(agentId: "node/1", sequence: 2, format: .jsonLines, records: records(batch: 2, count: 2)) == .stored)
        #expect(try store.append(agentId: "node/1", sequence: 2, format: .jsonLines, records: records(batch: 2, count: 2)) == .duplicate(highest: 2))
        #expect(try store.append(agentId: "node/1", sequence: 1, format: .jsonLines, records: []) == .duplicate(highest: 2))
        let reopened = try AgentLogStore(directory: dir)
        #expect(try reopened.highestSequence(agentId: "node/1") == 2)
        #expect(try reopened.entries(agentId: "node/1").map(\.sequence) == [1, 2])
        #expect(try reopened.highestSequence(agentId: "other") == 0)
        #expect(!AgentLogStore.directoryName(for: "../x").contains("/"))
    }

    @Test("a torn tail is cut (counted, logged) and an entry the state file missed is recovered")
    func recovery() throws {
        let dir = temporaryDirectory("store")
        let store = try AgentLogStore(directory: dir)
        _ = try store.append(agentId: "a", sequence: 1, format: .jsonLines, records: records(batch: 1, count: 1))
        let agentDir = store.agentDirectory("a")
        let state = try Data(contentsOf: URL(fileURLWithPath: agentDir + "/state"))
        _ = try store.append(agentId: "a", sequence: 2, format: .jsonLines, records: records(batch: 2, count: 1))
        // The state hint lags the log (it is rewritten every 64 appends, unsynced): the old one is back.
        try state.write(to: URL(fileURLWithPath: agentDir + "/state"))
        // And a torn half entry at the end.
        let log = FileHandle(forWritingAtPath: agentDir + "/" + SegmentName.name(1))!
        log.seekToEndOfFile()
        log.write(Data(LogEntry(sequence: 3, format: .jsonLines, records: records(batch: 3, count: 5)).encoded().prefix(20)))
        log.closeFile()

        let lines = LogLines()
        let reopened = try AgentLogStore(directory: dir, log: ControllerLog(lines.sink))
        #expect(try reopened.highestSequence(agentId: "a") == 2)
        #expect(reopened.stats.tornTails == 1 && reopened.stats.tornBytes == 20)
        #expect(lines.lines.filter { $0.contains("cut 20 bytes of an incomplete entry") }.count == 1, "\(lines.lines)")
        #expect(try reopened.append(agentId: "a", sequence: 2, format: .jsonLines, records: []) == .duplicate(highest: 2))
        #expect(try reopened.append(agentId: "a", sequence: 3, format: .jsonLines, records: records(batch: 3, count: 5)) == .stored)
        #expect(try reopened.entries(agentId: "a").map(\.sequence) == [1, 2, 3])
    }

    @Test("a state hint that is not an entry boundary, or garbage, costs no entry")
    func damagedHint() throws {
        let dir = temporaryDirectory("store")
        let store = try AgentLogStore(directory: dir)
        for seq in 1...3 {
            _ = try store.append(agentId: "a", sequence: UInt64(seq), format: .jsonLines, records: records(batch: seq, count: 2))
        }
        let statePath = store.agentDirectory("a") + "/state"
        for hint in ["1 17 3\n", "1 1 9\n", "1 0 9\n", "7 0 9\n", "3 17\n", "9 1\n", "\0\0\0", ""] {
            try Data(hint.utf8).write(to: URL(fileURLWithPath: statePath))
            let reopened = try AgentLogStore(directory: dir)
            #expect(try reopened.highestSequence(agentId: "a") == 3, "hint \(hint.debugDescription)")
            #expect(try reopened.entries(agentId: "a").map(\.sequence) == [1, 2, 3], "hint \(hint.debugDescription)")
        }
    }

    @Test("the spool numbers batches across restarts and forgets acknowledged ones")
    func spoolResume() throws {
        let dir = temporaryDirectory("spool")
        let spool = try Spool(directory: dir, agentId: "n1")
        #expect(try spool.add(records: records(batch: 1, count: 2)) == 1)
        #expect(try spool.add(records: records(batch: 2, count: 2)) == 2)
        #expect(try spool.add(records: records(batch: 3, count: 2)) == 3)
        try spool.acknowledge(2, cumulative: true)
        #expect(spool.pending.map(\.sequence) == [3])

        let again = try Spool(directory: dir, agentId: "n1")
        #expect(again.pending.map(\.sequence) == [3])
        #expect(try again.load(3).records == records(batch: 3, count: 2))
        try again.acknowledge(3, cumulative: true)
        let third = try Spool(directory: dir, agentId: "n1")
        #expect(third.pending.isEmpty)
        #expect(try third.add(records: records(batch: 4, count: 1)) == 4)
    }

    @Test("a full spool refuses batches and counts their records")
    func spoolFull() throws {
        let spool = try Spool(directory: temporaryDirectory("spool"), agentId: "n1", maxBytes: 300)
        #expect(try spool.add(records: records(batch: 1, count: 3)) == 1)
        #expect(try spool.add(records: records(batch: 2, count: 10)) == nil)
        #expect(spool.overflow.batches == 1 && spool.overflow.records == 10)
        #expect(try spool.add(records: records(batch: 3, count: 1)) == 2)
    }

    @Test("backoff grows, is capped, and resets")
    func backoff() {
        var b = Backoff(baseMs: 100, capMs: 1_000, floorMs: 10)
        var ceilings: [UInt64] = []
        for _ in 0..<6 {
            ceilings.append(b.ceilingMs)
            let d = b.nextDelayMs()
            #expect(d >= 10 && d <= 1_000)
        }
        #expect(ceilings == [100, 200, 400, 800, 1_000, 1_000])
        b.reset()
        #expect(b.ceilingMs == 100)
    }

    @Test("HOST:PORT parsing")
    func endpoints() {
        #expect(ControllerEndpoint.parse("127.0.0.1:7443")! == ("127.0.0.1", 7443))
        #expect(ControllerEndpoint.parse("[::1]:7443")! == ("::1", 7443))
        #expect(ControllerEndpoint.parse("nohost") == nil)
    }
}
