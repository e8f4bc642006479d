import NetobsWire

/// The Hello an agent sends on every (re)connect: its identity, what it agrees to do, and its
/// hook report.
enum AgentHello {
    /// A report that breaks a limit, or makes the Hello too big for the pre-handshake payload
    /// limit, is left out (and said so in `log`): a Hello that cannot be sent would keep the agent
    /// from ever connecting, which is worse than a missing report.
    static func make(node: AgentIdentity, capabilities: Set<String>, hooks: [HookStatus],
                     log: (String) -> Void) -> Hello {
        let hello = Hello(role: .agent, capabilities: capabilities, agent: node, hooks: hooks)
        do {
            _ = try encode(.hello(hello), maxPayload: Limits.handshakePayload)
            return hello
        } catch {
            log("hook report left out of the Hello (\(hooks.count) hooks): \(error)")
            return Hello(role: .agent, capabilities: capabilities, agent: node)
        }
    }
}
