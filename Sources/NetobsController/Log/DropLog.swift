import Synchronization

/// Logs retention's drops, each with the agent and the range of batches it lost, at most
/// `burst` lines per `window`: a fleet under a tight bound drops a segment per append, and the
/// operator needs the ranges while they are few and the totals when they are many (every drop is
/// counted on /metrics either way). Past the burst, one line per window tells what went untold.
final class DropLog: Sendable {
    static let burst = 10
    static let windowNs: UInt64 = 10_000_000_000

    private struct Untold {
        var drops = 0
        var batches: UInt64 = 0
        var records: UInt64 = 0
        var agents: Set<String> = []
    }

    private struct State {
        var windowStartNs: UInt64 = 0
        var lines = 0
        var untold = Untold()
    }

    private let state = Mutex(State())
    private let log: ControllerLog

    init(log: ControllerLog) { self.log = log }

    func dropped(agent: String, tally: SegmentTally, bytes: Int, why: String, nowNs: UInt64) {
        let (summary, tell): (String?, Bool) = state.withLock { s in
            let summary = Self.closeWindow(&s, nowNs)
            guard s.lines < Self.burst else {
                s.untold.drops += 1
                s.untold.batches += tally.batches
                s.untold.records += tally.records
                s.untold.agents.insert(agent)
                return (summary, false)
            }
            s.lines += 1
            return (summary, true)
        }
        if let summary { log.info(summary) }
        if tell {
            log.info("log retention (\(why)): dropped batches \(tally.first)…\(tally.last) of \(agent) (\(tally.batches) batches, \(tally.records) records, \(bytes) bytes)")
        }
    }

    /// Tells what a window that has ended left untold (called by the periodic retention pass too,
    /// so the last window of a burst is not left hanging).
    func flush(nowNs: UInt64) {
        if let summary = state.withLock({ Self.closeWindow(&$0, nowNs) }) { log.info(summary) }
    }

    private static func closeWindow(_ s: inout State, _ nowNs: UInt64) -> String? {
        guard nowNs >= s.windowStartNs &+ windowNs || nowNs < s.windowStartNs else { return nil }
        let u = s.untold
        s = State(windowStartNs: nowNs)
        guard u.drops > 0 else { return nil }
        return "log retention: \(u.drops) more drops not logged one by one in the last \(windowNs / 1_000_000_000) s: \(u.batches) batches, \(u.records) records of \(u.agents.count) agents (counted on /metrics)"
    }
}
