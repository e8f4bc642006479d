import NetobsWire
import NetobsWireNIO
import Synchronization

/// The durable per-agent logs under `DATA/agents/<id>/`: `batches.log` (LogEntry after LogEntry)
/// and `state` ("<highest sequence> <log size>\n", replaced every `appendsPerHint` appends).
///
/// Exactly-once by sequence: a batch whose sequence is not above the agent's highest durable one
/// is not stored again (the caller acknowledges it again). The log is the truth and the only
/// file fsynced per batch; `state` is a hint that spares a full scan on open, written without
/// fsync. On open, entries past what `state` names are recovered by scanning; a scan from the
/// hint that stops short of the end is redone from the start before anything is cut, so a stale
/// or damaged hint can never cost an entry, and only a torn tail is cut off.
///
/// Each agent's log has its own lock: one agent's fsync never waits for another's.
public final class AgentLogStore: Sendable {
    public enum Outcome: Equatable, Sendable {
        /// Appended and fsynced.
        case stored
        /// Already durable (sequence ≤ highest): acknowledge, do not store.
        case duplicate(highest: UInt64)
    }

    private struct AgentLog {
        let directory: String
        let file: AppendFile
        var highest: UInt64
        var appendsSinceHint = 0
    }

    /// Appends between two writes of the `state` hint: a file created per batch costs more
    /// CPU than the batch (1,000 agents, 1,000 batches/s), and a stale hint costs only the scan
    /// of at most this many entries on open.
    static let appendsPerHint = 64

    /// An agent's log behind its own lock.
    private final class LockedLog: Sendable {
        let log: Mutex<AgentLog>
        init(_ log: sending AgentLog) { self.log = Mutex(log) }
    }

    public let directory: String
    /// Held only to find or open an agent's log, never across an append.
    private let logs = Mutex<[String: LockedLog]>([:])

    public init(directory: String) throws {
        self.directory = directory
        try DurableFile.makeDirectory(directory + "/agents")
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

    public func agentDirectory(_ agentId: String) -> String {
        directory + "/agents/" + Self.directoryName(for: agentId)
    }

    /// Highest durable sequence of an agent (0 when none).
    public func highestSequence(agentId: String) throws -> UInt64 {
        try log(agentId).log.withLock { $0.highest }
    }

    /// Stores a batch durably unless its sequence is already durable. Blocks on fsync: call it
    /// off the event loops.
    public func append(agentId: String, sequence: UInt64, format: RecordFormat,
                       records: [[UInt8]]) throws -> Outcome {
        let entry = LogEntry(sequence: sequence, format: format, records: records)
        return try log(agentId).log.withLock { log in
            guard sequence > log.highest else { return .duplicate(highest: log.highest) }
            try log.file.appendDurably(entry.encoded())
            log.highest = sequence
            log.appendsSinceHint += 1
            if log.appendsSinceHint >= Self.appendsPerHint || sequence == 1 {
                log.appendsSinceHint = 0
                // A hint: losing it to a crash costs a longer scan on open, never an entry.
                try? DurableFile.replace(log.directory + "/state", with: Array("\(sequence) \(log.file.size)\n".utf8),
                                         durably: false)
            }
            return .stored
        }
    }

    /// Every stored entry of an agent, in order (for tests and tools).
    public func entries(agentId: String) throws -> [LogEntry] {
        let path = agentDirectory(agentId) + "/batches.log"
        guard DurableFile.exists(path) else { return [] }
        return LogEntry.scan(try DurableFile.read(path)).entries
    }

    private func log(_ agentId: String) throws -> LockedLog {
        try logs.withLock { logs in
            if let log = logs[agentId] { return log }
            let log = LockedLog(try open(agentId))
            logs[agentId] = log
            return log
        }
    }

    private func open(_ agentId: String) throws -> AgentLog {
        let dir = agentDirectory(agentId)
        let fresh = !DurableFile.exists(dir)
        try DurableFile.makeDirectory(dir)
        var highest: UInt64 = 0
        var offset = 0
        if let text = try? DurableFile.read(dir + "/state") {
            let parts = String(decoding: text, as: UTF8.self).split(whereSeparator: { $0 == " " || $0 == "\n" })
            if parts.count == 2, let h = UInt64(parts[0]), let o = Int(parts[1]) { highest = h; offset = o }
        }
        let logPath = dir + "/batches.log"
        let bytes = DurableFile.exists(logPath) ? try DurableFile.read(logPath) : []
        if offset > bytes.count { offset = 0; highest = 0 }  // state ahead of the log: rescan everything
        var (recovered, end) = LogEntry.scan(bytes, from: offset)
        if end != bytes.count && offset > 0 {
            // Short of the end: a torn tail, or a hint that is not an entry boundary. Only a scan
            // from the start can tell, and it decides what is cut.
            (recovered, end) = LogEntry.scan(bytes, from: 0)
            highest = 0
        }
        for entry in recovered { highest = max(highest, entry.sequence) }
        let file = try AppendFile(path: logPath, truncatingTo: end)
        if fresh { try DurableFile.syncDirectory(of: dir) }
        if !recovered.isEmpty || end != bytes.count {
            try DurableFile.replace(dir + "/state", with: Array("\(highest) \(end)\n".utf8))
        }
        return AgentLog(directory: dir, file: file, highest: highest)
    }
}
