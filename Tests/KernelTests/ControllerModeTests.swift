import Foundation
import NetobsPrograms
import NetobsTLS
import NodeLab
import Testing

/// The real agent in controller mode, with the real `netobs controller`, `tail`, `rules push`,
/// `programs push` and `agents`: rules and programs pushed from the CLI act on the kernel.
@Suite(.serialized, rootOnly)
struct ControllerModeTests {
    /// Certificates (agent CN lab-node), an operator key, a controller and the operator flags.
    final class Deployment {
        let dir = NSTemporaryDirectory() + "netobs-ctl-\(UUID().uuidString)"
        let port = Int.random(in: 20_000...29_999)
        let key: SigningKey
        var certs: String { dir + "/certs" }
        var pub: String { dir + "/operator.pub.pem" }
        var operatorFlags: [String] { ["--controller", "127.0.0.1:\(port)", "--certs", certs] }
        var controller: NetobsCLI!

        /// `controllerArguments`: more for `netobs controller` (a topology source, say).
        init(controllerArguments: [String] = []) throws {
            key = try SigningKey.generate()
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            _ = try LocalPKI.create(in: certs, hosts: ["127.0.0.1"], days: 1, force: true, agentNode: "lab-node")
            try Data(key.publicKey.pem).write(to: URL(fileURLWithPath: pub))
            controller = try NetobsCLI(["controller", "--listen", "127.0.0.1:\(port)", "--data", dir + "/data",
                                        "--certs", certs, "--operator-key", pub] + controllerArguments)
            try controller.waitForStderr("listening", timeout: 20)
        }

        /// `node`: another node than lab-node gets a certificate of its own.
        func agent(operatorKey: String? = nil, node: String = "lab-node") throws -> AgentRun {
            var certs = self.certs
            if node != "lab-node" {
                certs = dir + "/certs-\(node)"
                _ = try LocalPKI.issueAgent(caDirectory: self.certs, node: node, into: certs, days: 1)
            }
            let agent = try AgentRun(extraArguments: ["--controller", "127.0.0.1:\(port)", "--certs", certs,
                                                      "--spool", dir + "/spool-\(node)", "--operator-key", operatorKey ?? pub],
                                     standalone: false, node: node)
            try agent.waitForStderr("connected to controller", timeout: 20)
            return agent
        }

        func bundle(_ object: [UInt8], name: String = "l4", version: String, key: SigningKey? = nil) throws -> String {
            let path = dir + "/\(name)-\(version).bundle"
            try BundleSignature.writeFile(try BundleSignature.encode(
                BundleSignature.sign(object: object, name: name, version: version, key: key ?? self.key)), to: path)
            return path
        }

        func agentsJSON() throws -> [[String: Any]] {
            let result = try NetobsCLI.run(["agents", "--json"] + operatorFlags)
            return result.stdout.split(separator: "\n").compactMap {
                try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
            }
        }

        deinit {
            controller?.stop()
            try? FileManager.default.removeItem(atPath: dir)
        }
    }

    private func exchange(_ client: Pod, _ server: Pod, port: Int, bytes: Int) throws {
        let srv = try server.spawn(Peers.tcpServer(ip: server.ipv4, port: port, expect: bytes, reply: 1))
        try srv.waitForOutput("ready")
        try client.check(Peers.tcpClient(ip: server.ipv4, port: port, send: bytes, expect: 1))
        try srv.waitUntilExit(timeout: .seconds(30))
    }

    /// Ids of the BPF programs the process `pid` holds open (fdinfo of its descriptors says `prog_id`).
    private func programIds(of pid: Int32) throws -> Set<Int> {
        let fds = try FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fdinfo")
        return Set(fds.compactMap { fd in
            guard let info = try? String(contentsOfFile: "/proc/\(pid)/fdinfo/\(fd)", encoding: .utf8) else { return nil }
            let line = info.split(separator: "\n").first { $0.hasPrefix("prog_id:") }
            return line.flatMap { Int($0.dropFirst("prog_id:".count).trimmingCharacters(in: .whitespaces)) }
        })
    }

    @Test func aRulePushedFromTheCLIChangesWhatTheAgentCollectsWithNoProgramReload() throws {
        let d = try Deployment()
        try withLab(pods: 2) { _, pods in
            let (client, server) = (pods[0], pods[1])
            let tail = try NetobsCLI(["tail", "--json", "--kind", "tcp", "--controller", "127.0.0.1:\(d.port)", "--certs", d.certs])
            let agent = try d.agent()
            let programsBefore = try programIds(of: agent.pid)
            #expect(!programsBefore.isEmpty, "the agent holds its programs open")
            let p1 = freshPort(), p2 = p1 + 1, sent = 100_000

            try exchange(client, server, port: p1, bytes: sent)
            let towardP1 = { tail.records.filter { $0.kind == "tcp" && $0.uint("netns") == client.netnsInode && $0.int("dst_port") == p1 } }
            #expect(waitUntil(10) { towardP1().sum("tcp_tx_bytes") == UInt64(sent) }, "before the push, p1 is collected")

            let rules = d.dir + "/rules.yaml"
            try "ports:\n  mode: exclude\n  values: [\(p1)]\n".write(toFile: rules, atomically: true, encoding: .utf8)
            let push = try NetobsCLI.run(["rules", "push", rules, "--wait"] + d.operatorFlags)
            #expect(push.status == 0, "\(push.stdout)\n\(push.stderr)")
            #expect(push.stdout.contains("rules version 1"))
            #expect(push.stdout.contains("lab-node: applied"))
            try agent.waitForStderr("rules applied from controller (version 1): ports exclude \(p1)", timeout: 5)

            // One interval later the new connections follow the rule: p1 not collected, p2 collected.
            try exchange(client, server, port: p1, bytes: sent * 2)
            try exchange(client, server, port: p2, bytes: sent * 3)
            let towardP2 = { tail.records.filter { $0.kind == "tcp" && $0.uint("netns") == client.netnsInode && $0.int("dst_port") == p2 } }
            #expect(waitUntil(10) { towardP2().sum("tcp_tx_bytes") == UInt64(sent * 3) })
            Thread.sleep(forTimeInterval: 0.5)
            #expect(towardP1().sum("tcp_tx_bytes") == UInt64(sent), "the excluded port's second connection must not appear")

            // No program reload: the same kernel programs, no swap in the log.
            #expect(try programIds(of: agent.pid) == programsBefore)
            #expect(!agent.stderrText.contains("kernel programs swapped"))

            let agents = try d.agentsJSON()
            let me = agents.first { $0["node"] as? String == "lab-node" }
            #expect(me?["identity"] as? String == "lab-node")
            #expect(me?["connected"] as? Bool == true)
            #expect((me?["rules_version"] as? NSNumber)?.intValue == 1)
            #expect(((me?["acked_sequence"] as? NSNumber)?.intValue ?? 0) > 0)
            // The hook tiers the agent reported in its Hello: the tier under test, or auto's pick.
            let tier = AgentRun.tier == "auto" ? (HostKernel.allowsTracing ? "btf" : "portable") : AgentRun.tier
            let hooks = me?["hooks"] as? [[String: Any]] ?? []
            let state = hooks.first { $0["hook"] as? String == "inet_sock_set_state" }
            #expect(state?["tier"] as? String == tier, "hooks: \(hooks)")
            #expect(hooks.contains { $0["hook"] as? String == "cgroup_skb" && $0["tier"] as? String == "portable" })
            let table = try NetobsCLI.run(["agents"] + d.operatorFlags).stdout
            #expect(table.hasPrefix("NODE"))
            #expect(table.contains("lab-node") && table.contains("connected"))
            #expect(table.contains(tier), "\(table)")

            // An agent certificate cannot push rules.
            let forged = try NetobsCLI.run(["rules", "push", rules, "--controller", "127.0.0.1:\(d.port)",
                                            "--ca", d.certs + "/ca.pem", "--cert", d.certs + "/agent.pem",
                                            "--key", d.certs + "/agent-key.pem"])
            #expect(forged.status != 0)
            #expect(forged.stderr.contains("0x0104"), "\(forged.stderr)")
            _ = try agent.stop()
            tail.stop()
        }
    }

    @Test func programsPushedFromTheCLIAreSwappedInAndARejectedVersionRollsNothingForward() throws {
        let vmlinux = try #require(Fixture.vmlinuxHeader(), "vmlinux.h is generated by the build")
        let rejected = try Fixture.compileBPF("rejected_l4.bpf.c", includes: [vmlinux])
        let d = try Deployment()
        try withLab(pods: 2) { _, pods in
            let (client, server) = (pods[0], pods[1])
            let tail = try NetobsCLI(["tail", "--json", "--kind", "tcp", "--controller", "127.0.0.1:\(d.port)", "--certs", d.certs])
            let agent = try d.agent()
            let transfer = try PacedTransfer(from: client, to: server, chunks: 120)

            let good = try NetobsCLI.run(["programs", "push", try d.bundle(EmbeddedPrograms.l4.bytes, version: "2.0"), "--canary", "100"] + d.operatorFlags)
            #expect(good.status == 0, "\(good.stdout)\n\(good.stderr)")
            try agent.waitForStderr("l4 generation 1 is active", timeout: 10)

            let bad = try NetobsCLI.run(["programs", "push", try d.bundle(rejected, version: "3.0")] + d.operatorFlags)
            #expect(bad.status != 0)
            #expect(bad.stdout.contains("invalid mem access"), "the verifier log reaches the operator: \(bad.stdout)")
            #expect(bad.stderr.contains("rollout of l4 3.0 stopped"))

            // Tampered: refused by the controller before any agent sees it.
            var bytes = try BundleSignature.readFile(try d.bundle(EmbeddedPrograms.l4.bytes, version: "4.0"), what: "bundle")
            bytes[bytes.count - 500] ^= 0x01
            let tamperedPath = d.dir + "/tampered.bundle"
            try BundleSignature.writeFile(bytes, to: tamperedPath)
            let tampered = try NetobsCLI.run(["programs", "push", tamperedPath] + d.operatorFlags)
            #expect(tampered.status != 0)
            #expect(tampered.stderr.contains("tampered object"))

            #expect(!agent.stderrText.contains("l4 generation 2"), "nothing after 2.0 may be loaded")
            let me = try d.agentsJSON().first { $0["node"] as? String == "lab-node" }
            #expect(me?["program_version"] as? String == "2.0")
            #expect(transfer.isRunning, "the transfer must span the pushes")
            try transfer.finish()
            Thread.sleep(forTimeInterval: 0.3)
            _ = try agent.stop() // its last flush goes to the controller, then to tail
            _ = waitUntil(10) { transfer.complete(tail.records) }
            transfer.check(tail.records)   // exact across the swap and the refused versions
            tail.stop()
        }
    }

    @Test func l7ProgramsArePushedAsAnObjectOfTheirOwn() throws {
        let vmlinux = try #require(Fixture.vmlinuxHeader(), "vmlinux.h is generated by the build")
        let rejected = try Fixture.compileBPF("rejected_l7.bpf.c", includes: [vmlinux])
        let d = try Deployment()
        try withLab(pods: 2) { _, pods in
            let (client, server) = (pods[0], pods[1])
            let nginx = try L7Peers.runNginx(in: server, ip: server.ipv4, reachableFrom: client)
            defer { nginx.stop() }
            let tail = try NetobsCLI(["tail", "--json", "--kind", "http", "--controller", "127.0.0.1:\(d.port)", "--certs", d.certs])
            let agent = try d.agent()

            let good = try NetobsCLI.run(["programs", "push", try d.bundle(EmbeddedPrograms.l7.bytes, name: "l7", version: "2.0"),
                                          "--canary", "100"] + d.operatorFlags)
            #expect(good.status == 0, "\(good.stdout)\n\(good.stderr)")
            try agent.waitForStderr("l7 generation 1 is active", timeout: 10)

            let bad = try NetobsCLI.run(["programs", "push", try d.bundle(rejected, name: "l7", version: "3.0")] + d.operatorFlags)
            #expect(bad.status != 0)
            #expect(bad.stdout.contains("invalid mem access"), "the verifier log reaches the operator: \(bad.stdout)")
            #expect(bad.stderr.contains("rollout of l7 3.0 stopped"), "\(bad.stderr)")
            #expect(!agent.stderrText.contains("l7 generation 2"), "nothing after 2.0 may be loaded")
            #expect(!agent.stderrText.contains("l4 generation"), "an l7 bundle leaves the l4 programs alone")

            let me = try d.agentsJSON().first { $0["node"] as? String == "lab-node" }
            let versions = me?["program_versions"] as? [String: String]
            #expect(versions?["l7"] == "2.0" && versions?["l4"] == "", "\(me ?? [:])")

            // The running L7 version still records.
            try client.check(L7Peers.curl([L7Peers.url(ip: server.ipv4, path: "/missing")]))
            #expect(waitUntil(10) { tail.records.contains { $0.int("http_status_code") == 404 } })
            _ = try agent.stop()
            tail.stop()
        }
    }

    @Test func anAgentTrustingAnotherKeyRefusesWhatTheControllerAccepted() throws {
        let d = try Deployment()
        let otherPub = d.dir + "/other.pub.pem"
        try Data(try SigningKey.generate().publicKey.pem).write(to: URL(fileURLWithPath: otherPub))
        try withLab(pods: 1) { _, _ in
            let agent = try d.agent(operatorKey: otherPub)
            let push = try NetobsCLI.run(["programs", "push", try d.bundle(EmbeddedPrograms.l4.bytes, version: "5.0")] + d.operatorFlags)
            #expect(push.status != 0)
            #expect(push.stderr.contains("wrong key"), "\(push.stderr)")
            #expect(!agent.stderrText.contains("l4 generation 1"))
            _ = try agent.stop()
        }
    }
}

func waitUntil(_ seconds: TimeInterval, _ condition: () throws -> Bool) rethrows -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if try condition() { return true }
        Thread.sleep(forTimeInterval: 0.05)
    }
    return try condition()
}
