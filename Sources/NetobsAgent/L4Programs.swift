import CNetobsLayout

/// The hooks of bpf/l4.bpf.c: which program serves each hook on each tier, and the Table-1
/// metrics it feeds (off when the hook is).
enum L4Programs {
    static let objectName = "l4"

    struct Hook: Sendable {
        let name: String
        let btfProgram: String?
        let portableProgram: String?
        /// Table-1 fields (and their companions) this hook alone gives.
        let metrics: [String]
        /// What else is missing without it, for the report when it is off.
        let effect: String

        func program(on tier: HookTier) -> String? { tier == .btf ? btfProgram : portableProgram }
    }

    static let hooks: [Hook] = [
        Hook(name: "inet_sock_set_state", btfProgram: "netobs_tcp_state", portableProgram: "netobs_rt_state",
             metrics: ["tcp_old_state", "tcp_new_state", "tcp_span_time"], effect: "TCP state transitions"),
        Hook(name: "sock_send_length", btfProgram: "netobs_send", portableProgram: "netobs_rt_send",
             metrics: ["tcp_tx_bytes", "tcp_rtt"], effect: "bytes sent"),
        Hook(name: "sock_recv_length", btfProgram: "netobs_recv", portableProgram: "netobs_rt_recv",
             metrics: ["tcp_rx_bytes"], effect: "bytes received"),
        Hook(name: "tcp_retransmit_skb", btfProgram: "netobs_tcp_retransmit", portableProgram: "netobs_rt_retx",
             metrics: ["tcp_retransmit", "tcp_tlp"], effect: "retransmissions"),
        Hook(name: "kfree_skb", btfProgram: "netobs_drop", portableProgram: "netobs_rt_drop",
             metrics: ["tcp_drop"], effect: "packet drops"),
        Hook(name: "tcp_receive_reset", btfProgram: "netobs_tcp_reset", portableProgram: "netobs_rt_reset",
             metrics: [], effect: "src_port of refused connections"),
        Hook(name: "tcp_destroy_sock", btfProgram: "netobs_tcp_destroy", portableProgram: "netobs_rt_destroy",
             metrics: [], effect: "close records of sockets freed without a CLOSE transition"),
        Hook(name: "tcp_flow_table", btfProgram: tcpDump, portableProgram: nil,
             metrics: [], effect: "TCP flows"),
    ]

    /// The tracepoint hooks, by name (for --disable-tracepoint).
    static var tracepoints: [String] {
        hooks.filter { $0.btfProgram != nil && $0.portableProgram != nil }.map(\.name)
    }

    static let tcpDump = "netobs_tcp_dump"

    /// The hook a program serves, and whether it belongs to `tier` (programs of the other
    /// tier are not loaded).
    static func hook(ofProgram program: String) -> Hook? {
        hooks.first { $0.btfProgram == program || $0.portableProgram == program }
    }

    static func belongs(_ program: String, to tier: HookTier) -> Bool {
        guard let hook = hook(ofProgram: program) else { return false }
        return hook.program(on: tier) == program
    }

    /// Program types as `--features` names them.
    static func programType(section: String) -> String {
        if section.hasPrefix("tp_btf/") { return "tp_btf" }
        if section.hasPrefix("iter/") { return "iter" }
        if section.hasPrefix("raw_tp/") { return "raw_tracepoint" }
        return section
    }

    enum Maps {
        static let tcpStore = "netobs_tcp_store"
        static let tcpFlows = "netobs_tcp_flows"
        static let tcpDirty = "netobs_tcp_dirty"
        static let tcpDrops = "netobs_tcp_drops"
        static let udpFlows = "netobs_udp_flows"
        static let tcpClosed = "netobs_tcp_closed"
        static let losses = "netobs_losses"
        static let config = "netobs_config"
        static let rules = "netobs_rules"
        static let rulePorts = "netobs_rule_ports"
        static let ruleCgroups = "netobs_rule_cgroups"

        /// The maps only the other tier uses, left uncreated.
        static func unused(on tier: HookTier) -> [String] { tier == .btf ? [tcpFlows, tcpDirty] : [tcpStore] }
    }
}
