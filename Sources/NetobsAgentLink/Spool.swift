import NetobsWire
import NetobsWireNIO
import Synchronization

/// The agent's on-disk spool of unacknowledged FlowBatches: one file per batch,
/// `DIR/<20-digit sequence>.batch` holding the encoded FlowBatch payload, written and fsynced
/// before it is sent, deleted once acknowledged. `DIR/state` holds the highest acknowledged
/// sequence so that numbering resumes after a restart even when every file is gone.
///
/// Bounded by bytes: a batch that does not fit is not stored; its records are counted in
/// `overflowRecords` (the agent reports them as a `loss` record with reason `spool_full`).
/// Thread-safe: the agent's collector thread adds, the connection's event loop reads and acks.
public final class Spool: Sendable {
    public struct Pending: Sendable, Equatable {
        public var sequence: UInt64
        public var bytes: Int
    }

    private struct State {
        var pending: [Pending] = []  // ascending sequence
        var totalBytes = 0
        var lastAssigned: UInt64 = 0
        var overflowBatches: UInt64 = 0
        var overflowRecords: UInt64 = 0
    }

    public let directory: String
    public let maxBytes: Int
    public let agentId: String
    private let state: Mutex<State>

    /// Opens (or creates) the spool and finds where numbering resumes.
    public init(directory: String, agentId: String, maxBytes: Int = 256 << 20) throws {
        self.directory = directory
        self.agentId = agentId
        self.maxBytes = maxBytes
        try DurableFile.makeDirectory(directory)
        var s = State()
        var acked: UInt64 = 0
        if let text = try? DurableFile.read(directory + "/state"),
           let value = UInt64(String(decoding: text, as: UTF8.self).filter { $0.isNumber }) {
            acked = value
        }
        s.lastAssigned = acked
        for name in try DurableFile.list(directory) {
            if name.hasSuffix(".tmp") { try DurableFile.remove(directory + "/" + name); continue }
            guard name.hasSuffix(".batch"), let seq = UInt64(name.dropLast(6)) else { continue }
            let size = try DurableFile.read(directory + "/" + name).count
            if seq <= acked {  // acknowledged; the delete did not happen before a crash
                try DurableFile.remove(directory + "/" + name)
                continue
            }
            s.pending.append(Pending(sequence: seq, bytes: size))
            s.totalBytes += size
            s.lastAssigned = max(s.lastAssigned, seq)
        }
        s.pending.sort { $0.sequence < $1.sequence }
        state = Mutex(s)
    }

    private func path(_ sequence: UInt64) -> String {
        let digits = String(sequence)
        return directory + "/" + String(repeating: "0", count: max(0, 20 - digits.count)) + digits + ".batch"
    }

    /// Stores records as the next batch (durably) and returns its sequence, or nil when the spool
    /// is full (the records are counted as overflow) or `records` is empty.
    @discardableResult
    public func add(records: [[UInt8]], format: RecordFormat = .jsonLines) throws -> UInt64? {
        guard !records.isEmpty else { return nil }
        return try state.withLock { s -> UInt64? in
            let sequence = s.lastAssigned + 1
            let payload = try Message.flowBatch(FlowBatch(agentId: agentId, sequence: sequence, format: format,
                                                          records: records)).encodePayload()
            guard s.totalBytes + payload.count <= maxBytes else {
                s.overflowBatches += 1
                s.overflowRecords += UInt64(records.count)
                return nil
            }
            try DurableFile.replace(path(sequence), with: payload)
            s.lastAssigned = sequence
            s.pending.append(Pending(sequence: sequence, bytes: payload.count))
            s.totalBytes += payload.count
            return sequence
        }
    }

    /// Unacknowledged batches, ascending.
    public var pending: [Pending] { state.withLock { $0.pending } }
    public var pendingBytes: Int { state.withLock { $0.totalBytes } }
    public var pendingCount: Int { state.withLock { $0.pending.count } }
    public var lastAssigned: UInt64 { state.withLock { $0.lastAssigned } }
    public var overflow: (batches: UInt64, records: UInt64) {
        state.withLock { ($0.overflowBatches, $0.overflowRecords) }
    }

    /// The stored FlowBatch of `sequence`, ready to frame.
    public func load(_ sequence: UInt64) throws -> FlowBatch {
        let payload = try DurableFile.read(path(sequence))
        guard case .flowBatch(let batch) = try Message.decode(type: .flowBatch, version: FlowBatch.version,
                                                              payload: payload[...]) else {
            throw DurableFile.Failure(message: "spool file \(path(sequence)) is not a FlowBatch")
        }
        return batch
    }

    /// Drops acknowledged batches: every one ≤ `sequence` when cumulative, else that one.
    public func acknowledge(_ sequence: UInt64, cumulative: Bool) throws {
        try state.withLock { s in
            let done = s.pending.filter { cumulative ? $0.sequence <= sequence : $0.sequence == sequence }
            guard !done.isEmpty else { return }
            // Record the high-water mark first: a crash between the two steps leaves files that
            // the next open recognises as acknowledged.
            let ackedHigh = cumulative ? sequence : (s.pending.first.map { $0.sequence == sequence ? sequence : 0 } ?? 0)
            if ackedHigh > 0 { try DurableFile.replace(directory + "/state", with: Array("\(min(ackedHigh, s.lastAssigned))\n".utf8)) }
            for p in done { try DurableFile.remove(path(p.sequence)) }
            s.pending.removeAll { cumulative ? $0.sequence <= sequence : $0.sequence == sequence }
            s.totalBytes -= done.reduce(0) { $0 + $1.bytes }
        }
    }
}
