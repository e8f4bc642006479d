import Foundation
import NodeLab
import Testing

/// The agent's contract at its edges: clear refusals, and losses that are counted, not silent.
@Suite(.serialized, rootOnly)
struct AgentBehaviourTests {
    @Test func refusesToRunWithoutPrivilegesAndSaysWhy() throws {
        let result = try Shell.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                                    AgentRun.binary, "--standalone"])
        #expect(result.status == 2)
        #expect(result.stderr.contains("must run as root"))
    }

    @Test(arguments: [["--interval", "1s"], ["--standalone", "--interval", "soon"], ["--standalone", "--interval", "1ms"]])
    func rejectsBadArguments(_ arguments: [String]) throws {
        let result = try Shell.run([AgentRun.binary] + arguments)
        #expect(result.status == 64)
        #expect(result.stderr.contains("Error:"))
    }

    @Test func aFullFlowTableIsReportedAsLoss() throws {
        try withLab(pods: 2) { _, pods in
            let (client, server) = (pods[0], pods[1])
            let port = freshPort()
            let agent = try AgentRun(extraArguments: ["--max-tcp-flows", "4"])
            let srv = try server.spawn(["/usr/bin/python3", "-c", """
                import socket, sys
                s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                s.bind((sys.argv[1], int(sys.argv[2]))); s.listen(64); print('ready', flush=True)
                conns = [s.accept()[0] for _ in range(20)]
                """, server.ipv4, String(port)])
            try srv.waitForOutput("ready")
            try client.check(["/usr/bin/python3", "-c", """
                import socket, sys
                cs = [socket.create_connection((sys.argv[1], int(sys.argv[2]))) for _ in range(20)]
                for c in cs: c.sendall(b'x')
                """, server.ipv4, String(port)])
            try srv.waitUntilExit(timeout: .seconds(10))
            Thread.sleep(forTimeInterval: 0.4)
            let records = try agent.stop()
            let losses = records.filter { $0.kind == "loss" && $0.string("reason") == "tcp_flow_table_full" }
            #expect(losses.sum("count") > 0, "a full table must be counted")
            #expect(losses.last?.uint("total") == losses.sum("count"))
        }
    }
}

@Suite(.serialized, rootOnly)
struct DegradedHookTests {
    @Test func anUnknownTracepointNameIsRefused() throws {
        let result = try Shell.run([AgentRun.binary, "--standalone", "--disable-tracepoint", "nope"])
        #expect(result.status == 64)
        #expect(result.stderr.contains("unknown tracepoint 'nope'"))
    }
}

/// The probes: --probe reads the status file the agent rewrites after every flush.
@Suite(.serialized, rootOnly)
struct ProbeTests {
    @Test func theProbePassesWhileTheAgentFlushesAndFailsOnceItStops() throws {
        let status = NSTemporaryDirectory() + "netobs-status-\(UUID().uuidString).json"
        defer { try? FileManager.default.removeItem(atPath: status) }
        let probe = [AgentRun.binary, "--probe", "--status-file", status, "--probe-max-age", "1s"]
        #expect(try Shell.run(probe).status == 1, "no file yet: not ready")
        let agent = try AgentRun(extraArguments: ["--status-file", status])
        Thread.sleep(forTimeInterval: 0.5)
        let alive = try Shell.run(probe)
        #expect(alive.status == 0, "\(alive.stderr)")
        let file = try String(contentsOfFile: status, encoding: .utf8)
        #expect(file.contains("\"tier\":\"\(HostKernel.allowsTracing && AgentRun.tier != "portable" ? "btf" : "portable")\""), "\(file)")
        _ = try agent.stop()
        Thread.sleep(forTimeInterval: 1.5)
        let stale = try Shell.run(probe)
        #expect(stale.status == 1)
        #expect(stale.stderr.contains("the agent last flushed"), "\(stale.stderr)")
    }
}
