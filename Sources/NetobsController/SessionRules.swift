import NetobsTLS
import NetobsWire

/// The pure rules of a controller session (PROTOCOL.md §5): what the first frame must be, which
/// role may send which message.
enum SessionRules {
    /// The wire role matching a certificate role; nil for the controller's own role.
    static func wireRole(_ role: NetobsRole) -> Role? {
        switch role {
        case .agent: .agent
        case .operator: .operator
        case .consumer: .consumer
        case .controller: nil
        }
    }

    /// Whether a client of `role` may send a message of `type` after the handshake.
    static func allowed(_ type: MessageType, from role: Role) -> Bool {
        switch type {
        case .heartbeat, .error: true
        case .flowBatch, .ruleSetAck, .programStatus: role == .agent
        case .subscribe: role == .consumer
        case .ruleSet, .programBundle, .agentListRequest: role == .operator
        default: false
        }
    }

    /// Messages only operators may send: from another role they are refused as unauthorized.
    static func operatorOnly(_ type: MessageType) -> Bool {
        type == .ruleSet || type == .programBundle || type == .agentListRequest
    }

    /// Why an agent's Hello does not match its certificate, or nil when it does: the node name is
    /// the agent's identity everywhere (logs, records, status), so it must be the certificate's CN.
    static func identityMismatch(hello: Hello, certificateName: String?) -> String? {
        guard let node = hello.agent?.nodeName else { return "an agent Hello must carry the agent identity (tag 0)" }
        guard let cn = certificateName, !cn.isEmpty else { return "the agent certificate has no common name" }
        return node == cn ? nil : "Hello names node \"\(node)\" but the certificate is for \"\(cn)\""
    }

    /// Capabilities the controller offers.
    static let capabilities: Set<String> = [Capability.recordsJSON, Capability.recordsBinaryV1, Capability.spool,
                                            Capability.rules, Capability.programs, Capability.streamReplay,
                                            Capability.streamMatch]
}
