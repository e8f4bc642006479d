import NetobsAgent
import NetobsKernel
import NetobsRecords
import NetobsTLS
import NetobsWire
import Synchronization

/// What the controller asks of this agent: rule sets and program bundles are checked here (on the
/// link's thread), then queued for the collection loop, which applies them through the same paths
/// as `--rules` and SIGHUP; the answer goes back once the loop has done it.
final class ControllerRequests: Sendable {
    private struct State {
        var queue: [LoopRequest] = []
        /// Highest rule set version accepted (applied or queued).
        var rulesVersion: UInt64 = 0
        /// The set of that version: the controller sends the same version again, with other pod
        /// UIDs, when the pods its selector picks on this node change.
        var rulesInForce: RuleSet?
        /// The bundle running now per object (absent: the programs embedded in this binary).
        var programs: [KernelObject: (version: String, sha256: [UInt8])] = [:]
    }

    private let state = Mutex(State())
    private let operatorKey: VerifyingKey?

    init(operatorKey: VerifyingKey?) { self.operatorKey = operatorKey }

    /// For the collection loop: the requests queued since the last call.
    func take() -> [LoopRequest] { state.withLock { s in defer { s.queue = [] }; return s.queue } }

    /// The uplink's control handler.
    func handle(_ message: Message, respond: @escaping @Sendable (Message) -> Void) {
        switch message {
        case .ruleSet(let set): rules(set, respond)
        case .programBundle(let bundle): program(bundle, respond)
        default: break
        }
    }

    private func rules(_ set: RuleSet, _ respond: @escaping @Sendable (Message) -> Void) {
        @Sendable func answer(_ accepted: Bool, _ detail: String) {
            respond(.ruleSetAck(RuleSetAck(ruleSetVersion: set.version, accepted: accepted,
                                           detail: Limits.clip(detail, toUTF8Bytes: Limits.text))))
        }
        let rules: CollectionRules
        do throws(CollectionRules.Invalid) {
            rules = try CollectionRules(set)
            if let reason = rules.needsController { throw CollectionRules.Invalid("not resolved for this node: \(reason)") }
        } catch {
            AgentLog.warning("controller rules version \(set.version) refused: \(error.message)")
            return answer(false, error.message)
        }
        let (current, previous) = state.withLock { s -> (UInt64, RuleSet?) in
            let before = (s.rulesVersion, s.rulesInForce)
            if set.version >= s.rulesVersion && set != s.rulesInForce { (s.rulesVersion, s.rulesInForce) = (set.version, set) }
            return before
        }
        if set.version == current && set == previous { return answer(true, "already in force") }
        if set.version < current { return answer(false, "older than version \(current), which is in force") }
        enqueue(.applyRules(rules, origin: "controller (version \(set.version))") { error in
            guard let error else { return answer(true, "") }
            // Not in force after all: the same set sent again must be tried again.
            self.state.withLock { s in if s.rulesInForce == set { (s.rulesVersion, s.rulesInForce) = (current, previous) } }
            answer(false, "the kernel maps refused them: \(error)")
        })
    }

    private func program(_ bundle: ProgramBundle, _ respond: @escaping @Sendable (Message) -> Void) {
        @Sendable func answer(_ state: ProgramState, error: String? = nil, log: String = "") {
            respond(.programStatus(ProgramStatus(
                name: bundle.name, version: bundle.version, state: state,
                verifierLog: Limits.clip(log, toUTF8Bytes: Limits.verifierLog),
                error: error.map { Limits.clip($0, toUTF8Bytes: Limits.text) })))
        }
        guard let key = operatorKey else {
            AgentLog.warning("program bundle \(bundle.version) from the controller refused: no --operator-key to verify it")
            return answer(.rejected, error: "this agent has no --operator-key: it loads no program bundles")
        }
        guard let object = KernelObject(rawValue: bundle.name) else {
            let known = KernelObject.allCases.map(\.rawValue).joined(separator: ", ")
            AgentLog.warning("program bundle \(bundle.name) \(bundle.version) from the controller refused: not an object this agent loads")
            return answer(.rejected, error: "this agent loads the objects \(known), not '\(bundle.name)'")
        }
        do throws(BundleRejection) {
            try BundleSignature.verify(bundle, trusting: key, expectedName: object.rawValue)
        } catch {
            AgentLog.warning("program bundle \(bundle.name) \(bundle.version) from the controller refused: \(error)")
            return answer(.rejected, error: "\(error)")
        }
        let running = state.withLock { $0.programs[object] }
        if let running, running.version == bundle.version, running.sha256 == bundle.sha256 {
            return answer(.loaded)
        }
        let version = bundle.version
        let digest = bundle.sha256
        let origin = "program bundle \(object.rawValue) \(version) (sha256 \(Digest.hex(digest)))"
        enqueue(.swapPrograms(object, bundle.object, origin: origin) { error in
            guard let error else {
                self.state.withLock { $0.programs[object] = (version, digest) }
                return answer(.loaded)
            }
            let log = (error as? KernelError)?.log ?? ""
            let summary = (error as? KernelError).map { "\($0.operation) failed (errno \($0.errno))" } ?? "\(error)"
            answer(.rejected, error: "the kernel refused it, the previous programs keep running: \(summary)", log: log)
        })
    }

    private func enqueue(_ request: LoopRequest) { state.withLock { $0.queue.append(request) } }
}
