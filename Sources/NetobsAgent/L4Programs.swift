/// What each hook of bpf/l4.bpf.c collects: when the kernel lacks a tracepoint, these
/// metrics are off and the rest keep working.
enum L4Programs {
    static let objectName = "l4"

    static let metricsByTracepoint: [String: [String]] = [
        "inet_sock_set_state": ["tcp_old_state", "tcp_new_state", "tcp_span_time"],
        "sock_send_length": ["tcp_tx_bytes", "tcp_rtt", "udp_tx_bytes", "udp_duration"],
        "sock_recv_length": ["tcp_rx_bytes", "udp_rx_bytes", "udp_duration"],
        "tcp_retransmit_skb": ["tcp_retransmit", "tcp_tlp"],
        "kfree_skb": ["tcp_drop"],
        "tcp_receive_reset": ["src_port of refused connections"],
        "tcp_destroy_sock": ["close records of sockets freed without a CLOSE transition"],
    ]

    static let tcpDump = "netobs_tcp_dump"
    static let cgroupHooksPurpose = "peer addresses of unconnected UDP sockets"

    enum Maps {
        static let tcpStore = "netobs_tcp_store"
        static let tcpDrops = "netobs_tcp_drops"
        static let udpFlows = "netobs_udp_flows"
        static let tcpClosed = "netobs_tcp_closed"
        static let losses = "netobs_losses"
        static let config = "netobs_config"
        static let rules = "netobs_rules"
        static let rulePorts = "netobs_rule_ports"
        static let ruleCgroups = "netobs_rule_cgroups"
    }
}
