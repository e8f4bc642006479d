import NIOPosix
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Runs the publishes of stored batches (join, filters, metrics, live analysis) in order on a
/// thread of their own, niced below the sessions' threads: when the CPU is short, storing and
/// acknowledging agents' batches goes first and consumers get their records a little later,
/// instead of consumers slowing ingest. At most `limitBytes` of records wait; a batch past that
/// is not published (counted and logged; it stays in the durable log).
final class PublishQueue: Sendable {
    /// Nice value of the publishing thread (the sessions run at the process's own).
    static let niceness: Int32 = 10

    private let pool = NIOThreadPool(numberOfThreads: 1)
    private let limitBytes: Int
    private let state = Mutex((waitingBytes: 0, skippedRecords: UInt64(0), overloaded: false))
    private let log: ControllerLog

    init(limitBytes: Int, log: ControllerLog) {
        self.limitBytes = limitBytes
        self.log = log
        pool.start()
        // The pool's only thread runs this first (on Linux the nice value is per thread: who 0 is this thread).
        pool.submit { _ in _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, Self.niceness) }
    }

    /// Batches not published because too much was waiting.
    var skippedRecords: UInt64 { state.withLock { $0.skippedRecords } }

    private enum Outcome { case queued, queuedAfterSkipping(UInt64), skipped(firstOfRun: Bool) }

    /// Runs `publish` after every batch enqueued before it, unless `bytes` more would pass the limit;
    /// `settled` runs once the batch is published, or at once when it is skipped (retention waits
    /// for it: a skipped batch has nothing left to wait for).
    func enqueue(records: Int, bytes: Int, _ publish: @escaping @Sendable () -> Void,
                 settled: @escaping @Sendable () -> Void = {}) {
        let outcome: Outcome = state.withLock { s in
            guard s.waitingBytes + bytes <= limitBytes else {
                s.skippedRecords += UInt64(records)
                defer { s.overloaded = true }
                return .skipped(firstOfRun: !s.overloaded)
            }
            s.waitingBytes += bytes
            defer { s.overloaded = false }
            return s.overloaded ? .queuedAfterSkipping(s.skippedRecords) : .queued
        }
        switch outcome {
        case .skipped(let first):
            if first { log.warning("consumers fall behind: over \(limitBytes) bytes of records wait to be published; batches are skipped (counted) until they catch up") }
            settled()
            return
        case .queuedAfterSkipping(let total): log.info("publishing again; \(total) records skipped so far")
        case .queued: break
        }
        pool.submit { _ in
            publish()
            self.state.withLock { $0.waitingBytes -= bytes }
            settled()
        }
    }

    func shutdown() async { try? await pool.shutdownGracefully() }
}
