import Foundation
import Synchronization
import Testing
@testable import NetobsController

/// The publishing thread: batches published in the order stored, at a lower CPU priority than
/// the sessions, and a bounded backlog whose overflow is counted and logged, never silent.
struct PublishQueueTests {
    final class Lines: Sendable {
        let lines = Mutex<[String]>([])
        var all: [String] { lines.withLock { $0 } }
        var log: ControllerLog { ControllerLog { line in self.lines.withLock { $0.append(line) } } }
    }

    static func waitUntil(_ condition: () -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(10)
        while !condition() {
            guard ContinuousClock.now < deadline else { return }
            try await Task.sleep(for: .milliseconds(5))
        }
    }

    @Test func batchesRunInOrderOnANicedThread() async throws {
        let queue = PublishQueue(limitBytes: 1 << 20, log: Lines().log)
        let seen = Mutex<[Int]>([])
        let nice = Mutex<Int32?>(nil)
        for k in 0..<500 {
            queue.enqueue(records: 1, bytes: 10) {
                seen.withLock { $0.append(k) }
                if k == 0 { nice.withLock { $0 = getpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0) } }
            }
        }
        try await Self.waitUntil { seen.withLock { $0.count } == 500 }
        #expect(seen.withLock { $0 } == Array(0..<500))
        #expect(nice.withLock { $0 } == PublishQueue.niceness)
        #expect(queue.skippedRecords == 0)
        await queue.shutdown()
    }

    @Test func pastTheBacklogLimitBatchesAreSkippedCountedAndLogged() async throws {
        let lines = Lines()
        let queue = PublishQueue(limitBytes: 1_000, log: lines.log)
        let gate = DispatchSemaphore(value: 0)
        let published = Mutex(0)
        // The thread is held by the first batch; 400 more bytes fit, the rest is skipped.
        queue.enqueue(records: 5, bytes: 500) { gate.wait(); published.withLock { $0 += 5 } }
        for _ in 0..<4 { queue.enqueue(records: 1, bytes: 100) { published.withLock { $0 += 1 } } }
        for _ in 0..<3 { queue.enqueue(records: 7, bytes: 200) { published.withLock { $0 += 7 } } }
        #expect(queue.skippedRecords == 21)
        #expect(lines.all.filter { $0.hasPrefix("warning: consumers fall behind") }.count == 1)
        gate.signal()
        try await Self.waitUntil { published.withLock { $0 } == 9 }
        #expect(published.withLock { $0 } == 9)
        // Caught up: publishing resumes, and says so.
        queue.enqueue(records: 2, bytes: 100) { published.withLock { $0 += 2 } }
        try await Self.waitUntil { published.withLock { $0 } == 11 }
        #expect(published.withLock { $0 } == 11)
        #expect(lines.all.contains("info: publishing again; 21 records skipped so far"))
        await queue.shutdown()
    }

    @Test("a batch is settled for retention once published, a skipped one at once")
    func settledForRetention() async throws {
        let queue = PublishQueue(limitBytes: 1_000, log: Lines().log)
        let gate = DispatchSemaphore(value: 0)
        let settled = Mutex<[Int]>([])
        queue.enqueue(records: 1, bytes: 900, { gate.wait() }, settled: { settled.withLock { $0.append(1) } })
        queue.enqueue(records: 1, bytes: 900, {}, settled: { settled.withLock { $0.append(2) } })   // skipped
        #expect(settled.withLock { $0 } == [2], "the skipped one at once, the waiting one not yet")
        gate.signal()
        try await Self.waitUntil { settled.withLock { $0.count } == 2 }
        #expect(settled.withLock { $0 } == [2, 1])
        await queue.shutdown()
    }
}
