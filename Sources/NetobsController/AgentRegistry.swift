import NIOCore
import NetobsWire
import Synchronization

/// Every agent seen since the controller started: its status for `netobs agents`, and the
/// session to reach it while it is connected. Keyed by node name, which the handshake has bound
/// to the certificate's CN.
public final class AgentRegistry: Sendable {
    struct Session {
        let channel: Channel
        let capabilities: Set<String>
    }

    private struct Entry {
        var status: AgentStatus
        var session: Session?
    }

    private let entries = Mutex<[String: Entry]>([:])

    public init() {}

    /// Registers a new session; a previous session of the same node is returned for closing.
    /// `hooks` is the hook report of this session's Hello: it replaces the previous one (an agent
    /// that sends none has none) and stays after a disconnect, as the last thing the node said.
    func connected(node: String, identity: String, channel: Channel, capabilities: Set<String>,
                   ackedSequence: UInt64, hooks: [HookStatus]) -> Channel? {
        entries.withLock { e in
            var entry = e[node] ?? Entry(status: AgentStatus(nodeName: node, identity: identity, connected: true))
            let previous = entry.session?.channel
            entry.session = Session(channel: channel, capabilities: capabilities)
            entry.status.connected = true
            entry.status.identity = identity
            entry.status.hooks = hooks.lastPerHook
            entry.status.ackedSequence = max(entry.status.ackedSequence, ackedSequence)
            entry.status.seenSequence = max(entry.status.seenSequence, entry.status.ackedSequence)
            e[node] = entry
            return previous === channel ? nil : previous
        }
    }

    func disconnected(node: String, channel: Channel) {
        entries.withLock { e in
            guard e[node]?.session?.channel === channel else { return }
            e[node]?.session = nil
            e[node]?.status.connected = false
        }
    }

    func update(_ node: String, _ change: (inout AgentStatus) -> Void) {
        entries.withLock { e in
            guard var entry = e[node] else { return }
            change(&entry.status)
            e[node] = entry
        }
    }

    /// Connected agents that agreed `capability`, sorted by node name.
    func sessions(with capability: String) -> [(node: String, channel: Channel)] {
        entries.withLock { e in
            e.compactMap { node, entry in
                guard let s = entry.session, s.capabilities.contains(capability) else { return nil }
                return (node, s.channel)
            }.sorted { $0.node < $1.node }
        }
    }

    func channel(of node: String) -> Channel? { entries.withLock { $0[node]?.session?.channel } }

    public var statuses: [AgentStatus] {
        entries.withLock { $0.values.map(\.status).sorted { $0.nodeName < $1.nodeName } }
    }

    public func status(of node: String) -> AgentStatus? { entries.withLock { $0[node]?.status } }
}

/// The number in a JSON-lines `loss` record's "count" field (the agent writes `{"kind":"loss",…}`),
/// so the controller can total an agent's reported losses without a JSON parser.
enum LossRecord {
    private static let kindPrefix = Array(#"{"kind":"loss""#.utf8)
    private static let countKey = Array(#""count":"#.utf8)

    static func count(_ record: [UInt8]) -> UInt64? {
        guard record.starts(with: kindPrefix) else { return nil }
        guard let start = record.firstRange(of: countKey)?.upperBound else { return 0 }
        var n: UInt64 = 0
        for b in record[start...] {
            guard b >= 0x30 && b <= 0x39 else { break }
            n = n &* 10 &+ UInt64(b - 0x30)
        }
        return n
    }
}
