import NetobsRecords
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// `netobs-agent --standalone`: no controller; one JSON object per line on stdout at every
/// flush interval, until SIGINT or SIGTERM (then a last flush).
public enum StandaloneAgent {
    private static let stopRequested = Atomic<Bool>(false)
    /// How often closed flows are drained from the ring buffer (16 MiB: ~25k closes).
    private static let drainPeriodUs: UInt64 = 50_000

    public static func run(options: L4Collector.Options, intervalNs: UInt64) throws {
        let collector = try L4Collector(options: options)
        for line in collector.disabled { AgentLog.warning(line) }
        let l7 = L7Collector.start(node: options.node, cgroupRoot: options.cgroupRoot, context: collector.context)
        AgentLog.info("collecting on node \(options.node), flushing every \(intervalNs / 1_000_000) ms")
        unblockStopSignals()
        signal(SIGINT) { _ in StandaloneAgent.stopRequested.store(true, ordering: .relaxed) }
        signal(SIGTERM) { _ in StandaloneAgent.stopRequested.store(true, ordering: .relaxed) }
        signal(SIGPIPE, SIG_IGN)

        var nextFlush = Clock.monotonicNs() + intervalNs
        while !stopRequested.load(ordering: .relaxed) {
            let now = Clock.monotonicNs()
            if now >= nextFlush {
                try emit(collector.flush() + (l7?.flush() ?? []))
                nextFlush += intervalNs
                if nextFlush <= now { nextFlush = now + intervalNs } // we fell behind: skip ahead
                continue
            }
            try collector.drainClosed()
            try l7?.drain()
            usleep(UInt32(min(drainPeriodUs, (nextFlush - now) / 1000 + 1)))
        }
        try emit(collector.flush() + (l7?.flush() ?? []))
        l7?.close()
        collector.close()
        AgentLog.info("stopped")
    }

    /// A parent may have left SIGINT/SIGTERM blocked in the mask we inherited.
    private static func unblockStopSignals() {
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, SIGINT)
        sigaddset(&set, SIGTERM)
        pthread_sigmask(SIG_UNBLOCK, &set, nil)
    }

    private static func emit(_ records: [Record]) throws {
        guard !records.isEmpty else { return }
        var text = ""
        for record in records {
            text += JSONLineWriter.line(record)
            text += "\n"
        }
        if !FDWriter.write(text, to: 1) { throw OutputClosed() }
    }

    struct OutputClosed: Error, CustomStringConvertible {
        var description: String { "stdout was closed" }
    }
}
