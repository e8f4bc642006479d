import Foundation
import NetobsAgentLink
import NetobsRecords
import NetobsTLS
import NetobsWire

/// An agent without a kernel: a real uplink (TLS, spool, control messages) whose rules and
/// program loads are decided by the test. Every message it gets is noted in `events` as
/// "<node> rules <version>" or "<node> bundle <version>" (an l4 bundle) or "<node> bundle
/// <object> <version>" (another object's), in arrival order across agents.
final class SimulatedAgent: @unchecked Sendable {
    let node: String
    let uplink: AgentUplink
    private let lock = NSLock()
    private var _rules: CollectionRules?
    private var _programs: [String: String] = [:]

    var rules: CollectionRules? { lock.withLock { _rules } }
    /// The l4 version it loaded ("" : none yet).
    var program: String { program("l4") }
    /// The version of object `name` it loaded ("" : none yet); like a real agent, one per object.
    func program(_ name: String) -> String { lock.withLock { _programs[name] ?? "" } }

    /// `load` decides a bundle's fate after the agent has verified it against `operatorKey`
    /// (nil: loaded); it returns the verifier log of a refusal.
    init(node: String, port: Int, tls: TLSContext, operatorKey: VerifyingKey, events: LogLines,
         load: @escaping @Sendable (ProgramBundle) -> String? = { _ in nil }) throws {
        self.node = node
        let box = WeakBox<SimulatedAgent>()
        uplink = AgentUplink(
            endpoint: ControllerEndpoint(host: "127.0.0.1", port: port, tls: tls),
            spool: try Spool(directory: temporaryDirectory("spool-\(node)"), agentId: node),
            node: AgentIdentity(nodeName: node, agentVersion: "sim", kernelRelease: "sim"),
            backoff: Backoff(baseMs: 20, capMs: 200, floorMs: 10),
            control: { message, respond in
                switch message {
                case .ruleSet(let set):
                    events.add("\(node) rules \(set.version)")
                    do {
                        let rules = try CollectionRules(set)
                        box.value?.lock.withLock { box.value?._rules = rules }
                        respond(.ruleSetAck(RuleSetAck(ruleSetVersion: set.version, accepted: true)))
                    } catch {
                        respond(.ruleSetAck(RuleSetAck(ruleSetVersion: set.version, accepted: false, detail: "\(error)")))
                    }
                case .programBundle(let bundle):
                    events.add("\(node) bundle " + (bundle.name == "l4" ? "" : bundle.name + " ") + bundle.version)
                    do throws(BundleRejection) {
                        try BundleSignature.verify(bundle, trusting: operatorKey)
                    } catch {
                        respond(.programStatus(ProgramStatus(name: bundle.name, version: bundle.version,
                                                             state: .rejected, error: "\(error)")))
                        return
                    }
                    if let log = load(bundle) {
                        respond(.programStatus(ProgramStatus(name: bundle.name, version: bundle.version, state: .rejected,
                                                             verifierLog: log, error: "verifier refused it")))
                    } else {
                        box.value?.lock.withLock { box.value?._programs[bundle.name] = bundle.version }
                        respond(.programStatus(ProgramStatus(name: bundle.name, version: bundle.version, state: .loaded)))
                    }
                default:
                    break
                }
            },
            log: { _ in })
        box.value = self
    }

    func start() { uplink.start() }
    func stop() async { await uplink.stop() }
}

final class WeakBox<T: AnyObject>: @unchecked Sendable {
    weak var value: T?
}
