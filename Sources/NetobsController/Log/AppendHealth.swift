import NetobsWireNIO
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Whether the store can take batches. An append that fails (disk full, quota, I/O error) starts
/// an episode: logged once, counted per reason, and agents are refused at Hello until there is
/// room again (free space for a full disk, a hold that doubles while appends keep failing, 1 s to
/// 30 s), so a thousand agents back off instead of reconnecting in a loop. Their batches stay in
/// their spools; the first append that succeeds ends the episode.
public final class AppendHealth: Sendable {
    public enum Failure: String, Sendable, CaseIterable, Comparable {
        case diskFull = "disk_full", quota, ioError = "io_error", other
        public static func < (a: Self, b: Self) -> Bool { a.rawValue < b.rawValue }

        init(errno code: Int32) {
            switch code {
            case ENOSPC: self = .diskFull
            case EDQUOT: self = .quota
            case EIO: self = .ioError
            default: self = .other
            }
        }

        var text: String {
            switch self {
            case .diskFull: "disk full"
            case .quota: "disk quota exceeded"
            case .ioError: "I/O error"
            case .other: "cannot write"
            }
        }
    }

    private struct State {
        var failing: Failure?
        var sinceNs: UInt64 = 0
        var detail = ""
        var failedInEpisode: UInt64 = 0
        var failures: [Failure: UInt64] = [:]
        var neededBytes = 0
        var holdNs = AppendHealth.firstHoldNs
        var holdUntilNs: UInt64 = 0
        /// An agent was let in since the last failure: another failure doubles the hold.
        var admittedSinceFailure = false
    }

    static let firstHoldNs: UInt64 = 1_000_000_000
    static let maxHoldNs: UInt64 = 30_000_000_000

    private let state = Mutex(State())
    private let directory: String
    private let log: ControllerLog
    private let clock: @Sendable () -> UInt64

    init(directory: String, log: ControllerLog, clock: @escaping @Sendable () -> UInt64) {
        self.directory = directory
        self.log = log
        self.clock = clock
    }

    /// The episode's reason while appends fail (nil: storing normally).
    public var failing: Failure? { state.withLock { $0.failing } }
    public var failures: [Failure: UInt64] { state.withLock { $0.failures } }

    /// Notes a failed append of `entryBytes`; returns the reason.
    @discardableResult
    func failed(_ error: any Error, entryBytes: Int) -> Failure {
        let kind = Failure(errno: (error as? DurableFile.Failure)?.code ?? 0)
        let now = clock()
        let start: Bool = state.withLock { s in
            s.failures[kind, default: 0] += 1
            s.neededBytes = max(s.neededBytes, entryBytes)
            if s.admittedSinceFailure { s.holdNs = min(Self.maxHoldNs, s.holdNs * 2) }
            s.admittedSinceFailure = false
            s.holdUntilNs = now + s.holdNs
            guard s.failing == nil else {
                s.failedInEpisode += 1
                return false
            }
            s.failing = kind
            s.sinceNs = now
            s.detail = "\(error)"
            s.failedInEpisode = 1
            return true
        }
        if start {
            log.error("cannot store batches: \(kind.text) (\(error)); batches are not acknowledged (agents keep them in their spools and send them again) and agents are refused until there is room")
        }
        return kind
    }

    /// Notes a stored batch: ends an episode.
    func succeeded() {
        let ended: (Failure, UInt64, UInt64)? = state.withLock { s in
            guard let kind = s.failing else { return nil }
            defer {
                s.failing = nil
                s.neededBytes = 0
                s.holdNs = Self.firstHoldNs
            }
            return (kind, clock() - s.sinceNs, s.failedInEpisode)
        }
        if case let (kind, ns, failed)? = ended {
            log.info("storing batches again after \(ns / 1_000_000_000) s of \(kind.text) (\(failed) appends failed, none acknowledged)")
        }
    }

    /// Whether an agent may start a session now.
    public func admitsAgents() -> Bool {
        let now = clock()
        let directory = self.directory
        return state.withLock { s in
            guard let kind = s.failing else { return true }
            guard now >= s.holdUntilNs else { return false }
            // Room for the entry that failed and as much again, or the next one fails at once.
            if kind == .diskFull, let free = SegmentFS.freeBytes(directory), free < UInt64(2 * s.neededBytes) {
                s.holdUntilNs = now + s.holdNs
                return false
            }
            s.admittedSinceFailure = true
            return true
        }
    }

    /// Why agents are refused, for the Error they get.
    public var refusal: String {
        state.withLock { s in
            guard let kind = s.failing else { return "" }
            return "the controller cannot store batches (\(kind.text): \(s.detail)); keep them and retry later"
        }
    }
}
