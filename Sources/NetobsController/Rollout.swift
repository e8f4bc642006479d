import NetobsWire

/// One program rollout as a pure state machine: the canary share of the agents gets the new
/// bundle first; when every canary reports `loaded`, the rest get it; the first `rejected` (or
/// `rolledBack`) stops the rollout and every agent already moved (or still loading) goes back to
/// `previous`, the active bundle of the same object (`name`): agents swap objects one by one, so
/// another object's bundle would not undo anything. The caller sends what the returned actions say.
struct Rollout {
    enum Action: Equatable {
        case send(bundle: Int, to: [String])
        /// The rollout is over: `activate` says whether the new bundle is now the one agents run.
        case finished(activate: Bool, status: ProgramStatus)
    }

    enum Phase: Equatable { case canary, all, done }

    let bundle: Int
    let name: String
    let version: String
    /// The registry number of the object's active bundle before this rollout.
    let previous: Int?
    private(set) var phase: Phase = .canary
    private(set) var waiting: Set<String> = []
    private(set) var moved: [String] = []
    private var rest: [String] = []

    /// The canaries: `percent` of `agents` rounded up, at least one.
    static func canaryCount(agents: Int, percent: Int) -> Int {
        guard agents > 0 else { return 0 }
        return max(1, min(agents, (agents * percent + 99) / 100))
    }

    init(bundle: Int, name: String, version: String, previous: Int?) {
        self.bundle = bundle
        self.name = name
        self.version = version
        self.previous = previous
    }

    /// Starts on `agents` (sorted, so the canaries are predictable).
    mutating func start(agents: [String], canaryPercent: Int) -> [Action] {
        let k = Self.canaryCount(agents: agents.count, percent: canaryPercent)
        rest = Array(agents.dropFirst(k))
        return sendTo(Array(agents.prefix(k)))
    }

    private mutating func sendTo(_ agents: [String]) -> [Action] {
        guard !agents.isEmpty else { return finish() }
        waiting = Set(agents)
        return [.send(bundle: bundle, to: agents)]
    }

    private mutating func finish() -> [Action] {
        phase = .done
        return [.finished(activate: true, status: ProgramStatus(name: name, version: version, state: .loaded))]
    }

    /// An agent's report on this rollout's bundle.
    mutating func report(from node: String, _ status: ProgramStatus) -> [Action] {
        guard phase != .done, status.name == name, status.version == version, waiting.remove(node) != nil else { return [] }
        if status.state == .loaded {
            moved.append(node)
            return advance()
        }
        phase = .done
        // Agents still loading it may yet succeed: they go back too (the previous version again is harmless).
        let back = moved + waiting.sorted()
        waiting = []
        var text = "agent \(node) refused \(name) \(version): \(status.error ?? "no reason given"); rollout stopped"
        if back.isEmpty {
            text += "; no agent had moved"
        } else if previous != nil {
            text += "; rolling back \(back.joined(separator: ", ")) to the previous \(name)"
        } else {
            text += "; no previous \(name) in the registry, so \(back.joined(separator: ", ")) keep \(version)"
        }
        var actions: [Action] = []
        if let previous, !back.isEmpty { actions.append(.send(bundle: previous, to: back)) }
        actions.append(.finished(activate: false, status: ProgramStatus(
            name: name, version: version, state: .rejected, verifierLog: status.verifierLog, error: text)))
        return actions
    }

    /// An agent went away: it is no longer waited for.
    mutating func gone(_ node: String) -> [Action] {
        guard phase != .done, waiting.remove(node) != nil else { return [] }
        return advance()
    }

    private mutating func advance() -> [Action] {
        guard waiting.isEmpty else { return [] }
        if phase == .canary {
            phase = .all
            let next = rest
            rest = []
            return sendTo(next)
        }
        return finish()
    }
}
