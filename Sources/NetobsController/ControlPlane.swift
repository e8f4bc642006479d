import NIOCore
import NetobsTLS
import NetobsTopology
import NetobsWire
import Synchronization

/// Rules and programs for the agents: what the operator pushes is checked, stored durably, then
/// sent to the connected agents (and to each agent that connects later); agents' answers update
/// the registry and drive the program rollout. Disk work happens on the caller's thread: call the
/// push methods off the event loops.
final class ControlPlane: Sendable {
    struct Refused: Error, CustomStringConvertible {
        let code: ErrorCode
        let description: String
    }

    let rules: RuleStore
    let programs: ProgramRegistry
    let agents: AgentRegistry
    let operatorKey: VerifyingKey?
    let defaultCanaryPercent: Int
    let log: ControllerLog
    /// Where pod selectors in the rules are resolved; nil: rules that select pods are refused.
    let topology: TopologyStore?

    private struct RolloutState {
        var rollout: Rollout
        var bundles: [Int: ProgramBundle]
        var reply: @Sendable (Message) -> Void
    }

    private let running = Mutex<RolloutState?>(nil)
    /// The rule set last sent to each node, and the topology generation it was resolved at.
    private let sentRules = Mutex<(generation: UInt64, sets: [String: RuleSet])>((0, [:]))
    private let nextCorrelationId = Atomic<UInt64>(1)

    init(rules: RuleStore, programs: ProgramRegistry, agents: AgentRegistry, operatorKey: VerifyingKey?,
         defaultCanaryPercent: Int, log: ControllerLog, topology: TopologyStore? = nil) {
        self.rules = rules
        self.programs = programs
        self.agents = agents
        self.operatorKey = operatorKey
        self.defaultCanaryPercent = defaultCanaryPercent
        self.log = log
        self.topology = topology
    }

    /// A request of our own to an agent (ids from the controller's number space).
    private func send(_ message: Message, to channel: Channel) {
        let id = nextCorrelationId.wrappingAdd(1, ordering: .relaxed).oldValue
        guard let frame = try? Frame(message, correlationId: id) else { return }
        channel.writeAndFlush(frame, promise: nil)
    }

    // MARK: Agents

    /// A new agent session: it gets the rules in force and the active bundle of every object.
    func joined(node: String, channel: Channel, capabilities: Set<String>) {
        if capabilities.contains(Capability.rules), let set = rules.current {
            sendRules(set, to: [(node, channel)])
        }
        if capabilities.contains(Capability.programs) {
            for active in programs.actives { send(.programBundle(active.bundle), to: channel) }
        }
    }

    func left(node: String) {
        let actions = running.withLock { state -> [Rollout.Action] in
            guard state != nil else { return [] }
            return state!.rollout.gone(node)
        }
        perform(actions)
    }

    func ruleSetAck(from node: String, _ ack: RuleSetAck) {
        agents.update(node) { s in
            if ack.accepted {
                s.rulesVersion = max(s.rulesVersion, ack.ruleSetVersion)
                s.detail = ""
            } else {
                s.detail = "rules \(ack.ruleSetVersion) refused: \(ack.detail)"
            }
        }
        if ack.accepted {
            log.info("agent \(node) applied rules version \(ack.ruleSetVersion)")
        } else {
            log.warning("agent \(node) refused rules version \(ack.ruleSetVersion): \(ack.detail)")
        }
    }

    func programStatus(from node: String, _ status: ProgramStatus) {
        agents.update(node) { s in
            if status.state == .loaded {
                // Only the objects bundles are accepted for: the list stays within its wire limit
                // whatever names an agent answers with.
                if ProgramBundle.knownObjects.contains(status.name) { s.setProgramVersion(status.version, of: status.name) }
                s.detail = ""
            } else {
                s.detail = "program \(status.name) \(status.version) \(status.state): \(status.error ?? "")"
            }
        }
        log.info("agent \(node): program \(status.name) \(status.version) \(status.state)"
            + (status.error.map { ": \($0)" } ?? ""))
        let actions = running.withLock { state -> [Rollout.Action] in
            guard state != nil else { return [] }
            return state!.rollout.report(from: node, status)
        }
        perform(actions)
    }

    // MARK: Operator pushes

    /// Stores a pushed rule set as the next version and sends it to every connected agent.
    func pushRules(_ pushed: RuleSet) throws -> (set: RuleSet, agents: Int) {
        if topology == nil, pushed.rules.contains(where: \.selectsPods) {
            throw Refused(code: .rejected, description: "rule set refused: it selects pods by namespace, name or labels, and this "
                + "controller has no topology source (--topology-file, --kubeconfig or --in-cluster) to resolve them")
        }
        let set: RuleSet
        do {
            set = try rules.store(pushed)
        } catch let refused as RuleStore.Refused {
            throw Refused(code: .rejected, description: refused.description)
        }
        let targets = agents.sessions(with: Capability.rules)
        sendRules(set, to: targets)
        log.info("rules version \(set.version) stored (\(set.rules.count) rules), sent to \(targets.count) agents")
        return (set, targets.count)
    }

    /// `set` as each target's node applies it (its pod selector resolved), sent and remembered.
    /// Under the lock, so that a push and `followPods` reach an agent in the order they resolved.
    private func sendRules(_ set: RuleSet, to targets: [(node: String, channel: Channel)]) {
        sentRules.withLock { sent in
            let sets = NodeRuleSets.resolve(set, nodes: targets.map(\.node), pods: livePods(for: set))
            for t in targets {
                let resolved = sets[t.node] ?? set
                sent.sets[t.node] = resolved
                send(.ruleSet(resolved), to: t.channel)
            }
        }
    }

    private func livePods(for set: RuleSet) -> [TopologyPod] {
        guard let topology, set.rules.contains(where: \.selectsPods) else { return [] }
        return Array(topology.view().state.pods.values)
    }

    /// Resolves the rules in force again when the topology changed, and sends each connected
    /// agent whose selected pods changed its new set (same version, other pod UIDs). Called
    /// periodically; cheap when nothing changed.
    func followPods() {
        guard let topology else { return }
        sentRules.withLock { sent in
            let generation = topology.generation
            guard sent.generation != generation else { return }
            sent.generation = generation
            guard let set = rules.current, set.rules.contains(where: \.selectsPods) else { return }
            let targets = agents.sessions(with: Capability.rules)
            let sets = NodeRuleSets.resolve(set, nodes: targets.map(\.node), pods: livePods(for: set))
            for target in targets {
                guard let resolved = sets[target.node], sent.sets[target.node] != resolved else { continue }
                sent.sets[target.node] = resolved
                let selected = resolved.rules.reduce(into: Set<String>()) { $0.formUnion($1.podUIDs ?? []) }.count
                log.info("rules version \(set.version) follow the pods on node \(target.node): \(selected) selected now")
                send(.ruleSet(resolved), to: target.channel)
            }
        }
    }

    /// Verifies, stores and starts rolling out a pushed bundle for the object it names; `reply` gets
    /// the outcome when the rollout ends. One rollout runs at a time, whatever its object.
    func pushProgram(_ pushed: ProgramBundle, reply: @escaping @Sendable (Message) -> Void) throws {
        guard let key = operatorKey else {
            throw Refused(code: .rejected, description: "this controller has no --operator-key: it accepts no program bundles")
        }
        guard ProgramBundle.knownObjects.contains(pushed.name) else {
            throw Refused(code: .rejected, description: ProgramRegistry.UnknownObject(name: pushed.name).description)
        }
        var bundle = pushed
        let percent = Int(bundle.canaryPercent ?? UInt8(defaultCanaryPercent))
        bundle.canaryPercent = nil
        do {
            try BundleSignature.verify(bundle, trusting: key)
        } catch {
            throw Refused(code: ErrorCode(rawValue: error.protocolErrorCode), description: "program bundle refused: \(error)")
        }
        let busy = Refused(code: .rejected, description: "a rollout is in progress; push again when it has finished")
        guard running.withLock({ $0 == nil }) else { throw busy }
        let n = try programs.store(bundle)
        // Each object rolls back to its own previous bundle: a refused l7 never brings back an l4.
        let previous = programs.active(named: bundle.name)
        var rollout = Rollout(bundle: n, name: bundle.name, version: bundle.version, previous: previous?.n)
        var bundles = [n: bundle]
        if let previous { bundles[previous.n] = previous.bundle }
        let targets = agents.sessions(with: Capability.programs).map(\.node)
        log.info("program \(bundle.name) \(bundle.version) verified and stored as #\(n); rolling out to "
            + "\(targets.count) agents, \(Rollout.canaryCount(agents: targets.count, percent: percent)) canaries first")
        let actions = try running.withLock { state -> [Rollout.Action] in
            guard state == nil else { throw busy } // another push started meanwhile
            let actions = rollout.start(agents: targets, canaryPercent: percent)
            state = RolloutState(rollout: rollout, bundles: bundles, reply: reply)
            return actions
        }
        perform(actions)
    }

    private func perform(_ actions: [Rollout.Action]) {
        for action in actions {
            switch action {
            case .send(let n, let nodes):
                guard let bundle = running.withLock({ $0?.bundles[n] }) else { continue }
                log.info("sending program \(bundle.name) \(bundle.version) to \(nodes.joined(separator: ", "))")
                for node in nodes {
                    if let channel = agents.channel(of: node) { send(.programBundle(bundle), to: channel) }
                }
            case .finished(let activate, let status):
                guard let state = running.withLock({ s -> RolloutState? in defer { s = nil }; return s }) else { continue }
                if activate, let bundle = state.bundles[state.rollout.bundle] {
                    do {
                        try programs.activate(state.rollout.bundle, bundle)
                        log.info("program \(status.name) \(status.version) rolled out; it is the active \(status.name)")
                    } catch {
                        log.error("cannot record \(status.name) \(status.version) as active: \(error)")
                    }
                } else {
                    log.warning(status.error ?? "rollout of \(status.name) \(status.version) stopped")
                }
                state.reply(.programStatus(status))
            }
        }
    }
}
