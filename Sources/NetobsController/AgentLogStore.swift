import NetobsWire
import NetobsWireNIO
import Synchronization

/// The durable per-agent logs under `DATA/agents/<id>/`: segments `batches-<first>.log` (LogEntry
/// after LogEntry, see `SegmentName`) and a `state` hint (see `AgentLog`).
///
/// Exactly-once by sequence: a batch whose sequence is not above the agent's highest durable one
/// is not stored again (the caller acknowledges it again). Every append is fsynced before it
/// returns; a failed one leaves nothing behind and is not acknowledged.
///
/// Nothing is read whole. Start lists the segments (names, sizes, times); opening an agent's
/// log for appending reads its last segment only, from the hint (see `AgentLog.open`); readers
/// stream one segment at a time through a bounded buffer.
///
/// Retention (`LogRetention`) drops the oldest whole segments of all agents: over the byte bound,
/// or past the age bound. Every batch appended waits for `markPublished` before it can go: the
/// controller stores before it acknowledges and publishes after, and a batch is never dropped
/// before consumers had their chance at it (a batch the publishing queue skips is released at
/// once). What is dropped is counted per agent and logged with its range.
///
/// Each agent's log has its own lock: one agent's fsync never waits for another's.
public final class AgentLogStore: Sendable {
    public enum Outcome: Equatable, Sendable {
        /// Appended and fsynced.
        case stored
        /// Already durable (sequence ≤ highest): acknowledge, do not store.
        case duplicate(highest: UInt64)
    }

    /// An agent's log behind its own lock.
    private final class LockedLog: Sendable {
        let log: Mutex<AgentLog>
        init(_ log: sending AgentLog) { self.log = Mutex(log) }
    }

    public let directory: String
    public let retention: LogRetention
    /// Whether appends succeed; agents are held back while they fail.
    public let health: AppendHealth
    /// Held only to find or open an agent's log, never across an append.
    private let logs = Mutex<[String: LockedLog]>([:])
    /// Taken inside an agent's lock or the logs lock, never around them.
    private let index = Mutex(LogIndex())
    /// One retention pass at a time; an append that finds one running leaves the work to it.
    private let enforcing = Mutex(())
    private let torn = Mutex((tails: UInt64(0), bytes: UInt64(0)))
    let meter = ReadMeter()
    private let drops: DropLog
    private let log: ControllerLog
    private let clock: @Sendable () -> UInt64

    public convenience init(directory: String, retention: LogRetention = .unbounded, log: ControllerLog = .silent) throws {
        try self.init(directory: directory, retention: retention, log: log, clock: { WallClock.nowNs() })
    }

    /// Lists every agent's segments (no segment is read) and turns single-file logs of earlier
    /// versions into segments.
    init(directory: String, retention: LogRetention, log: ControllerLog, clock: @escaping @Sendable () -> UInt64) throws {
        self.directory = directory
        self.retention = retention
        self.log = log
        self.clock = clock
        drops = DropLog(log: log)
        health = AppendHealth(directory: directory, log: log, clock: clock)
        try DurableFile.makeDirectory(directory + "/agents")
        var found = LogIndex()
        for name in try DurableFile.list(directory + "/agents") {
            let dir = directory + "/agents/" + name
            guard let id = Self.agentId(directoryName: name), SegmentFS.info(dir + "/.") != nil else { continue }
            found.add(agent: id, directory: dir, segments: try SegmentListing.segments(in: dir, log: log))
        }
        index.withLock { $0 = found }
        if let max = retention.maxBytes, let volume = SegmentFS.volumeBytes(directory), UInt64(max) > volume {
            log.warning("the retention bound on the logs (\(ByteCount.text(max))) is above the size of the data volume (\(volume) bytes): the disk fills before retention drops anything, and agents then wait for room")
        }
    }

    /// The directory name for an agent id: safe characters kept, others as %XX.
    public static func directoryName(for agentId: String) -> String {
        var out = ""
        for b in agentId.utf8 {
            let c = Character(Unicode.Scalar(b))
            if c.isASCII && (c.isLetter || c.isNumber || c == "-" || c == "_" || (c == "." && !out.isEmpty)) {
                out.append(c)
            } else {
                let hex = String(b, radix: 16, uppercase: true)
                out += "%" + (hex.count == 1 ? "0" + hex : hex)
            }
        }
        return out.isEmpty ? "%" : out
    }

    /// The agent id a directory name stands for (nil: not one `directoryName` makes).
    public static func agentId(directoryName name: String) -> String? {
        if name == "%" { return "" }
        var bytes: [UInt8] = []
        var utf8 = name.utf8[...]
        while let b = utf8.popFirst() {
            guard b == UInt8(ascii: "%") else { bytes.append(b); continue }
            guard utf8.count >= 2, let v = UInt8(String(decoding: utf8.prefix(2), as: UTF8.self), radix: 16) else { return nil }
            bytes.append(v)
            utf8 = utf8.dropFirst(2)
        }
        let id = String(decoding: bytes, as: UTF8.self)
        return directoryName(for: id) == name ? id : nil
    }

    public func agentDirectory(_ agentId: String) -> String {
        directory + "/agents/" + Self.directoryName(for: agentId)
    }

    /// Highest durable sequence of an agent (0 when none).
    public func highestSequence(agentId: String) throws -> UInt64 {
        try log(agentId).log.withLock { $0.highest }
    }

    /// Stores a batch durably unless its sequence is already durable. Blocks on fsync (and now and
    /// then on a retention pass): call it off the event loops.
    public func append(agentId: String, sequence: UInt64, format: RecordFormat,
                       records: [[UInt8]]) throws -> Outcome {
        let entry = LogEntry(sequence: sequence, format: format, records: records).encoded()
        let outcome: Outcome
        do {
            let locked = try log(agentId)
            outcome = try locked.log.withLock { log in
                guard sequence > log.highest else { return .duplicate(highest: log.highest) }
                let (target, lastCreatedNs) = index.withLock {
                    (retention.segmentTarget(agents: $0.agents.count), $0.agent(agentId)?.segments.last?.createdNs)
                }
                let now = clock()
                let appended = try log.append(entry, sequence: sequence, target: target, lastCreatedNs: lastCreatedNs,
                                              maxAgeNs: retention.segmentMaxAgeNs, nowNs: now)
                index.withLock { idx in
                    if let first = appended.began { idx.began(agentId, first: first, nowNs: now) }
                    idx.appended(agentId, sequence: sequence, records: records.count, entryBytes: entry.count, nowNs: now)
                }
                return .stored
            }
        } catch {
            health.failed(error, entryBytes: entry.count)
            throw error
        }
        if outcome == .stored {
            health.succeeded()
            if let max = retention.maxBytes, index.withLock({ $0.bytes > max }) { enforceRetention() }
        }
        return outcome
    }

    /// Batch `sequence` of `agentId` left the publishing queue (published to consumers, or
    /// skipped and counted): retention may drop it.
    public func markPublished(agentId: String, sequence: UInt64) {
        index.withLock { $0.published(agentId, sequence: sequence) }
    }

    /// Every batch of `agentId` up to `sequence` left the publishing queue.
    public func markPublished(agentId: String, through sequence: UInt64) {
        index.withLock { $0.published(agentId, through: sequence) }
    }

    /// Drops what the bounds say must go (appends over the byte bound call it; the controller also
    /// calls it now and then for the age bound).
    public func enforceRetention() {
        enforcing.withLockIfAvailable { _ in
            var skipping: Set<String> = []
            while let victim = index.withLock({ $0.victim(retention, nowNs: clock(), skipping: skipping) }) {
                do {
                    if try !drop(victim) { skipping.insert(victim.agent) }
                } catch {
                    log.warning("log retention: cannot drop segment \(SegmentName.name(victim.segment.first)) of \(victim.agent): \(error)")
                    skipping.insert(victim.agent)
                }
            }
            drops.flush(nowNs: clock())
        }
    }

    /// Removes the victim's file and counts what it held; false when it cannot go after all (its
    /// agent appended a batch not yet published since it was chosen).
    private func drop(_ victim: LogIndex.Victim) throws -> Bool {
        let now = clock()
        if victim.isLast {
            let locked = try log(victim.agent)
            let replaced: Bool = try locked.log.withLock { log in
                let waiting = index.withLock { $0.agent(victim.agent)?.unpublished.isEmpty == false }
                guard !waiting, log.writerFirst == victim.segment.first else { return false }
                let first = try log.beginEmpty()
                index.withLock { $0.began(victim.agent, first: first, nowNs: now) }
                return true
            }
            guard replaced else { return false }
        }
        // Appends may have grown it since it was chosen: what the index holds now.
        guard let agent = index.withLock({ $0.agent(victim.agent) }), let segment = agent.segments.first,
              segment.first == victim.segment.first else { return false }
        let path = agent.directory + "/" + SegmentName.name(segment.first)
        let tally = try segment.tally ?? SegmentTally.count(SegmentFile(path: path, meter: meter), size: segment.bytes)
        try DurableFile.remove(path)
        index.withLock { $0.dropped(victim.agent, first: segment.first, tally: tally, reason: victim.reason) }
        if tally.batches > 0 {
            drops.dropped(agent: victim.agent, tally: tally, bytes: segment.bytes, why: why(victim.reason), nowNs: now)
        }
        return true
    }

    private func why(_ reason: RetentionReason) -> String {
        switch reason {
        case .bytes: "over \(retention.maxBytes.map(ByteCount.text) ?? "?") of logs"
        case .age: "older than \(retention.maxAgeNs.map(ByteCount.duration) ?? "?")"
        }
    }

    /// Every stored entry of an agent, in order (for tests and tools; `reader` streams them).
    public func entries(agentId: String) throws -> [LogEntry] {
        var reader = self.reader(agentId: agentId)
        var all: [LogEntry] = []
        while let entry = try reader.next() { all.append(entry) }
        return all
    }

    /// The stored entries of an agent in order, read one segment at a time. Segments that
    /// retention drops meanwhile are skipped.
    public func reader(agentId: String) -> LogReader {
        let paths: [String] = index.withLock { idx in
            guard let a = idx.agent(agentId) else { return [] }
            return a.segments.map { a.directory + "/" + SegmentName.name($0.first) }
        }
        return LogReader(paths: paths, meter: meter)
    }

    /// Sizes, drops, failures, for /metrics.
    public var stats: LogStoreStats {
        var s = LogStoreStats(retention: retention)
        index.withLock { idx in
            s.bytes = idx.bytes
            s.segments = idx.segmentCount
            s.agents = idx.agents.count
            s.dropped = idx.dropped
        }
        (s.tornTails, s.tornBytes) = torn.withLock { ($0.tails, $0.bytes) }
        s.appendFailures = health.failures
        s.appendsBlocked = health.failing != nil
        s.bytesRead = meter.bytes
        s.volumeFreeBytes = SegmentFS.freeBytes(directory)
        return s
    }

    private func log(_ agentId: String) throws -> LockedLog {
        try logs.withLock { logs in
            if let log = logs[agentId] { return log }
            let dir = agentDirectory(agentId)
            let known = index.withLock { $0.agent(agentId) }
            if known == nil {
                try DurableFile.makeDirectory(dir)
                try DurableFile.syncDirectory(of: dir)
                index.withLock { $0.add(agent: agentId, directory: dir) }
            }
            let (opened, recovery) = try AgentLog.open(directory: dir, segments: known?.segments ?? [], meter: meter)
            index.withLock { $0.opened(agentId, lastBytes: recovery.lastBytes, highest: opened.highest) }
            if recovery.tornBytes > 0 {
                torn.withLock { $0.tails += 1; $0.bytes += UInt64(recovery.tornBytes) }
                self.log.warning("\(agentId): cut \(recovery.tornBytes) bytes of an incomplete entry at the end of \(recovery.tornPath) (a write a crash cut short: never acknowledged, so the agent sends it again)")
            }
            let log = LockedLog(opened)
            logs[agentId] = log
            return log
        }
    }
}
