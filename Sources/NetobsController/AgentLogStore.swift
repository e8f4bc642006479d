import NetobsWire
import NetobsWireNIO
import Synchronization

/// The durable per-agent logs under `DATA/agents/<id>/`: `batches.log` (LogEntry after LogEntry)
/// and `state` ("<highest durable sequence> <log size>\n", atomically replaced after each append).
///
/// Exactly-once by sequence: a batch whose sequence is not above the agent's highest durable one
/// is not stored again (the caller acknowledges it again). The log is the truth; on open, entries
/// past what `state` names (a crash between the log's fsync and the state's) are recovered by
/// scanning, and a torn tail is cut off.
public final class AgentLogStore: Sendable {
    public enum Outcome: Equatable, Sendable {
        /// Appended and fsynced.
        case stored
        /// Already durable (sequence ≤ highest): acknowledge, do not store.
        case duplicate(highest: UInt64)
    }

    private final class AgentLog {
        let directory: String
        let file: AppendFile
        var highest: UInt64
        init(directory: String, file: AppendFile, highest: UInt64) {
            self.directory = directory
            self.file = file
            self.highest = highest
        }
    }

    public let directory: String
    private let state = Mutex<[String: AgentLog]>([:])

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
        try state.withLock { logs in try Self.open(agentId, in: &logs, store: self).highest }
    }

    /// Stores a batch durably unless its sequence is already durable. Blocks on fsync: call it
    /// off the event loops.
    public func append(agentId: String, sequence: UInt64, format: RecordFormat,
                       records: [[UInt8]]) throws -> Outcome {
        try state.withLock { logs in
            let log = try Self.open(agentId, in: &logs, store: self)
            guard sequence > log.highest else { return .duplicate(highest: log.highest) }
            try log.file.appendDurably(LogEntry(sequence: sequence, format: format, records: records).encoded())
            log.highest = sequence
            try DurableFile.replace(log.directory + "/state", with: Array("\(sequence) \(log.file.size)\n".utf8))
            return .stored
        }
    }

    /// Every stored entry of an agent, in order (for tests and tools).
    public func entries(agentId: String) throws -> [LogEntry] {
        let path = agentDirectory(agentId) + "/batches.log"
        guard DurableFile.exists(path) else { return [] }
        return LogEntry.scan(try DurableFile.read(path)).entries
    }

    private static func open(_ agentId: String, in logs: inout [String: AgentLog],
                             store: AgentLogStore) throws -> AgentLog {
        if let log = logs[agentId] { return log }
        let dir = store.agentDirectory(agentId)
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
        let (recovered, end) = LogEntry.scan(bytes, from: offset)
        for entry in recovered { highest = max(highest, entry.sequence) }
        let file = try AppendFile(path: logPath, truncatingTo: end)
        if fresh { try DurableFile.syncDirectory(of: dir) }
        let log = AgentLog(directory: dir, file: file, highest: highest)
        if !recovered.isEmpty || end != bytes.count {
            try DurableFile.replace(dir + "/state", with: Array("\(highest) \(end)\n".utf8))
        }
        logs[agentId] = log
        return log
    }
}
