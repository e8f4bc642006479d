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
        case .ruleSet, .programBundle: role == .operator
        default: false
        }
    }

    /// Capabilities the controller offers now (rules and programs come later).
    static let capabilities: Set<String> = [Capability.recordsJSON, Capability.recordsBinaryV1, Capability.spool]
}
