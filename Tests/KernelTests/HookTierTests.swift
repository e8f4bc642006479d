import Foundation
import NodeLab
import Testing

/// What the kernel allows, as `bpftool feature probe kernel` (the ground truth) says.
enum HostKernel {
    static let allowsTracing: Bool = {
        guard let probe = try? Shell.run(["bpftool", "feature", "probe", "kernel"]) else { return false }
        return probe.stdout.contains("eBPF program_type tracing is available")
    }()
}

/// The hook tiers: what `--features` reports, what `--hooks` forces, and a hook turned off
/// leaving exactly its metrics out of the records while the rest stay exact.
@Suite(.serialized, rootOnly)
struct HookTierTests {
    static func features(_ arguments: [String] = []) throws -> [String: Any] {
        let result = try Shell.run([AgentRun.binary, "--features"] + arguments)
        try #require(result.status == 0, "--features failed: \(result.stderr)")
        return try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
    }

    static func hooks(_ report: [String: Any]) -> [String: [String: Any]] {
        let list = report["hooks"] as? [[String: Any]] ?? []
        return Dictionary(list.map { ($0["hook"] as? String ?? "", $0) }, uniquingKeysWith: { a, _ in a })
    }

    @Test func featuresReportWhatTheKernelAllowsAndWhatAutoPicks() throws {
        let report = try Self.features()
        let types = try #require(report["program_types"] as? [String: Bool])
        #expect(types["tracing"] == HostKernel.allowsTracing, "bpftool and --features disagree on tracing")
        #expect(types["raw_tracepoint"] == true && types["cgroup_skb"] == true)
        #expect(report["kernel"] as? String == KernelRelease.current)
        #expect(report["btf"] as? Bool == FileManager.default.fileExists(atPath: "/sys/kernel/btf/vmlinux"))
        let tier = HostKernel.allowsTracing ? "btf" : "portable"
        #expect(report["tier"] as? String == tier)
        let hooks = Self.hooks(report)
        for hook in ["inet_sock_set_state", "sock_send_length", "sock_recv_length", "tcp_retransmit_skb", "kfree_skb"] {
            #expect(hooks[hook]?["tier"] as? String == tier, "\(hook): \(hooks[hook] ?? [:])")
            #expect(hooks[hook]?["program_type"] as? String == (tier == "btf" ? "tp_btf" : "raw_tracepoint"))
        }
        #expect(hooks["cgroup_skb"]?["tier"] as? String == "portable")
        #expect((report["metrics_off"] as? [String: String])?.isEmpty == true)
    }

    @Test func portableIsForcedOnAnyHost() throws {
        let report = try Self.features(["--hooks", "portable"])
        #expect(report["tier"] as? String == "portable")
        #expect(Self.hooks(report).values.allSatisfy { ["portable"].contains($0["tier"] as? String) })
    }

    @Test func btfIsRefusedClearlyWhereTheKernelRefusesTracing() throws {
        if HostKernel.allowsTracing {
            #expect(try Self.features(["--hooks", "btf"])["tier"] as? String == "btf")
        } else {
            let run = try Shell.run([AgentRun.binary, "--standalone", "--hooks", "btf"])
            #expect(run.status == 1)
            #expect(run.stderr.contains("--hooks btf: this kernel refuses BPF tracing programs"), "\(run.stderr)")
        }
    }

    /// Fields each tracepoint alone gives (the contract's names, and their companions).
    static let fieldsByHook: [String: [String]] = [
        "inet_sock_set_state": ["tcp_old_state", "tcp_new_state", "tcp_span_time", "tcp_old_state_duration"],
        // UDP is counted per datagram by the cgroup_skb programs, not on system calls.
        "sock_send_length": ["tcp_tx_bytes", "tcp_rtt", "tcp_rtt_min", "tcp_rtt_max"],
        "sock_recv_length": ["tcp_rx_bytes"],
        "tcp_retransmit_skb": ["tcp_retransmit", "tcp_tlp"],
        "kfree_skb": ["tcp_drop", "tcp_drop_reasons"],
    ]

    @Test(arguments: ["inet_sock_set_state", "sock_send_length", "sock_recv_length", "tcp_retransmit_skb", "kfree_skb"])
    func aHookTurnedOffLeavesOutItsMetricsAndTheRestStayExact(hook: String) throws {
        let off = Set(Self.fieldsByHook[hook] ?? [])
        let report = try Self.features(["--disable-tracepoint", hook])
        let named = Set((report["metrics_off"] as? [String: String] ?? [:]).keys)
        #expect(named == off.intersection(Self.tableOne), "--features names \(named)")

        try withLab(pods: 2) { _, pods in
            let (client, server) = (pods[0], pods[1])
            let tcpPort = freshPort(), udpPort = freshPort(), sent = 100_000, reply = 10, datagrams = 20, size = 300
            let agent = try AgentRun(extraArguments: ["--disable-tracepoint", hook])
            #expect(agent.stderrText.contains("hook \(hook) is off: disabled by --disable-tracepoint"), "\(agent.stderrText)")
            let srv = try server.spawn(Peers.tcpServer(ip: server.ipv4, port: tcpPort, expect: sent, reply: reply))
            let echo = try server.spawn(Peers.udpEchoServer(ip: server.ipv4, port: udpPort, count: datagrams))
            try srv.waitForOutput("ready")
            try echo.waitForOutput("ready")
            try client.check(Peers.tcpClient(ip: server.ipv4, port: tcpPort, send: sent, expect: reply))
            try client.check(Peers.udpClient(ip: server.ipv4, port: udpPort, count: datagrams, size: size, connected: false))
            try srv.waitUntilExit(timeout: .seconds(10))
            try echo.waitUntilExit(timeout: .seconds(10))
            Thread.sleep(forTimeInterval: 0.3)
            let records = try agent.stop()

            let tcp = records.toward(kind: "tcp", netns: client.netnsInode, port: tcpPort)
            let udp = records.toward(kind: "udp", netns: client.netnsInode, port: udpPort)
            try #require(!tcp.isEmpty || hook == "sock_send_length", "no tcp records: \(agent.stderrText)")
            for record in tcp + udp {
                let leaked = off.filter { record[$0] != nil }
                #expect(leaked.isEmpty, "\(leaked) present with \(hook) off: \(record)")
            }
            // Everything else is exact.
            if !off.contains("tcp_tx_bytes") { #expect(tcp.sum("tcp_tx_bytes") == UInt64(sent)) }
            if !off.contains("tcp_rx_bytes") { #expect(tcp.sum("tcp_rx_bytes") == UInt64(reply)) }
            if !off.contains("tcp_old_state") {
                #expect(tcp.transitions.first == "CLOSE>SYN_SENT", "\(tcp.transitions)")
                #expect(tcp.contains { $0.bool("tcp_closed") })
            }
            if !off.contains("tcp_rtt") { #expect(tcp.contains { $0.uint("tcp_rtt") > 0 }) }
            if !off.contains("tcp_retransmit") { #expect(tcp.allSatisfy { $0["tcp_retransmit"] != nil }) }
            if !off.contains("tcp_drop") { #expect(tcp.allSatisfy { $0["tcp_drop"] != nil }) }
            if !off.contains("udp_tx_bytes") { #expect(udp.sum("udp_tx_bytes") == UInt64(datagrams * size)) }
            if !off.contains("udp_rx_bytes") { #expect(udp.sum("udp_rx_bytes") == UInt64(datagrams * size)) }
        }
    }

    static let tableOne: Set<String> = [
        "tcp_old_state", "tcp_new_state", "tcp_rx_bytes", "tcp_tx_bytes", "tcp_span_time", "tcp_drop", "tcp_tlp",
        "tcp_retransmit", "tcp_rtt", "udp_rx_bytes", "udp_tx_bytes", "udp_duration",
    ]

    /// UDP flows are counted by the L7 object's cgroup_skb programs: without them the report
    /// names the UDP fields off, and a run records TCP flows but no UDP ones.
    @Test func withoutTheL7ProgramsUDPFlowsAreOffAndSaidSo() throws {
        let off = (try Self.features(["--no-l7"])["metrics_off"] as? [String: String]) ?? [:]
        for field in ["udp_tx_bytes", "udp_rx_bytes", "udp_duration", "http_status_code"] {
            #expect(off[field]?.contains("disabled by --no-l7") == true, "\(field): \(off)")
        }
        #expect(off["tcp_tx_bytes"] == nil)
        try withLab(pods: 2) { _, pods in
            let (client, server) = (pods[0], pods[1])
            let tcpPort = freshPort(), udpPort = freshPort(), sent = 50_000
            let agent = try AgentRun(extraArguments: ["--no-l7"])
            let srv = try server.spawn(Peers.tcpServer(ip: server.ipv4, port: tcpPort, expect: sent, reply: 1))
            let echo = try server.spawn(Peers.udpEchoServer(ip: server.ipv4, port: udpPort, count: 3))
            try srv.waitForOutput("ready")
            try echo.waitForOutput("ready")
            try client.check(Peers.tcpClient(ip: server.ipv4, port: tcpPort, send: sent, expect: 1))
            try client.check(Peers.udpClient(ip: server.ipv4, port: udpPort, count: 3, size: 100, connected: true))
            try srv.waitUntilExit(timeout: .seconds(10))
            Thread.sleep(forTimeInterval: 0.3)
            let records = try agent.stop()
            #expect(records.toward(kind: "tcp", netns: client.netnsInode, port: tcpPort).sum("tcp_tx_bytes") == UInt64(sent))
            #expect(!records.contains { $0.kind == "udp" })
        }
    }

    @Test func withoutTheL4ProgramsHTTPIsStillRecorded() throws {
        try withLab(pods: 2) { _, pods in
            let (client, server) = (pods[0], pods[1])
            let nginx = try L7Peers.runNginx(in: server, ip: server.ipv4, reachableFrom: client)
            defer { nginx.stop() }
            let agent = try AgentRun(extraArguments: ["--no-l4"])
            #expect(agent.stderrText.contains("hook inet_sock_set_state is off: disabled by --no-l4"))
            let answer = try client.check(L7Peers.curl([L7Peers.url(ip: server.ipv4, path: "/missing")]))
            #expect(answer.stdout.hasPrefix("404"))
            Thread.sleep(forTimeInterval: 0.4)
            let records = try agent.stop()
            #expect(!records.contains { $0.kind == "tcp" || $0.kind == "udp" })
            let http = records.l7("http", netns: client.netnsInode)
            #expect(http.map { $0.int("http_status_code") } == [404], "\(agent.stderrText)")
        }
    }
}

enum KernelRelease {
    static var current: String {
        var u = utsname()
        uname(&u)
        return withUnsafeBytes(of: u.release) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
    }
}

/// `--version` names the commit the binary was built from.
@Test func theAgentSaysWhichCommitItWasBuiltFrom() throws {
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path
    let describe = try Shell.run(["git", "-C", root, "describe", "--always", "--tags"])
    try #require(describe.status == 0, "not a git checkout: \(describe.stderr)")
    let version = try Shell.run([AgentRun.binary, "--version"])
    #expect(version.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        == "netobs " + describe.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
}
