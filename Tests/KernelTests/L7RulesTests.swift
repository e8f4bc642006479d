import Foundation
import NodeLab
import Testing

/// The rules' port and cgroup filters applied by the L7 programs (HTTP, DNS, their aggregates
/// and the connections' latency), against real peers: what each client was asked to send is the
/// ground truth, per pod and per port. Every exchange is an exemplar (`l7_sample_every: 1`), so
/// both the per-exchange records and the aggregates are checked.
@Suite(.serialized, rootOnly)
struct L7RulesTests {
    /// The kinds the L7 programs give.
    private static let l7Kinds: Set<String> = ["http", "http_aggregate", "dns", "dns_aggregate", "tcp_latency"]

    /// curl in `pod` (IPv4) asking `paths` of ip:port on one connection; the statuses it got.
    @discardableResult
    private func curl(_ pod: Pod, ip: String, port: Int, _ paths: [String]) throws -> [String] {
        let out = try pod.check(L7Peers.curl(paths.map { L7Peers.url(ip: ip, path: ":\(port)" + $0) }))
        return out.stdout.split(separator: "\n").map { String($0.split(separator: " ").first ?? "") }
    }

    @Test func onlyTheIncludedPodHasL7Records() throws {
        try withLab(pods: 3) { _, pods in
            let (included, other, server) = (pods[0], pods[1], pods[2])
            let nginx = try L7Peers.runNginx(in: server, ip: server.ipv4, reachableFrom: included)
            defer { nginx.stop() }
            let file = try L7Peers.rulesFile(#"{"cgroups": {"mode": "include", "values": [\#(included.cgroupID)]}, "l7_sample_every": 1}"#)
            defer { try? FileManager.default.removeItem(atPath: file) }
            let agent = try AgentRun(extraArguments: ["--rules", file])
            #expect(try curl(included, ip: server.ipv4, port: 80, ["/ok", "/missing", "/ok"]) == ["200", "404", "200"])
            #expect(try curl(other, ip: server.ipv4, port: 80, ["/ok", "/busy"]) == ["200", "503"])
            Thread.sleep(forTimeInterval: 0.4)
            let records = try agent.stop()

            // Include mode: every L7 record of the node (other pods, the server, the host) is the pod's.
            let l7 = records.filter { Self.l7Kinds.contains($0.kind) }
            #expect(l7.allSatisfy { $0.uint("cgroup_id") == included.cgroupID }, "\(l7.filter { $0.uint("cgroup_id") != included.cgroupID })")
            let exchanges = records.l7("http", netns: included.netnsInode)
            #expect(exchanges.count == 3 && exchanges.allSatisfy { $0.string("role") == "client" }, "\(exchanges)")
            let aggregates = records.aggregates("http_aggregate", cgroup: included.cgroupID, role: "client")
            #expect(aggregates.aggregateCounts == ["GET /ok HTTP/1.1 200": 2, "GET /missing HTTP/1.1 404": 1], "\(aggregates)")
            #expect(records.filter { $0.uint("cgroup_id") == other.cgroupID || $0.uint("cgroup_id") == server.cgroupID }
                .allSatisfy { !Self.l7Kinds.contains($0.kind) })
        }
    }

    @Test func anExcludedPortHasNoHTTPRecordsAndASighupSwitchesIt() throws {
        try withLab(pods: 2) { _, pods in
            let (client, server) = (pods[0], pods[1])
            let p1 = freshPort(), p2 = p1 + 1, ip = server.ipv4
            let config = try L7Peers.Nginx(name: "nginx-ports") { _ in
                "listen \(ip):\(p1);\nlisten \(ip):\(p2);\n" + L7Peers.Nginx.statusAnswers
            }
            let nginx = try L7Peers.run(config, in: server, ip: ip, port: p2, reachableFrom: client)
            defer { nginx.stop() }
            let file = try L7Peers.rulesFile(#"{"ports": {"mode": "exclude", "values": [\#(p1)]}, "l7_sample_every": 1}"#)
            defer { try? FileManager.default.removeItem(atPath: file) }
            let agent = try AgentRun(extraArguments: ["--rules", file])
            try curl(client, ip: ip, port: p1, ["/ok", "/ok"])
            try curl(client, ip: ip, port: p2, ["/ok", "/missing", "/ok"])
            Thread.sleep(forTimeInterval: 0.3)

            // The other port excluded: applies to the connections that start after the SIGHUP, which
            // also swaps the programs (the new copy judges them with the sets it shares).
            try #"{"ports": {"mode": "exclude", "values": [\#(p2)]}, "l7_sample_every": 1}"#
                .write(toFile: file, atomically: true, encoding: .utf8)
            agent.send(SIGHUP)
            try agent.waitForStderr("rules applied from \(file): ports exclude \(p2)", timeout: 5)
            try curl(client, ip: ip, port: p1, ["/missing", "/ok", "/ok", "/ok"])
            try curl(client, ip: ip, port: p2, ["/ok"])
            Thread.sleep(forTimeInterval: 0.4)
            let records = try agent.stop()

            func http(_ netns: UInt64, port: Int) -> [FlowRecord] {
                records.l7("http", netns: netns).filter { $0.int("dst_port") == port || $0.int("src_port") == port }
            }
            // Before the SIGHUP: p1 out, p2's 3 exchanges. After: p1's 4, p2's 1 out.
            for netns in [client.netnsInode, server.netnsInode] {
                #expect(http(netns, port: p1).count == 4, "\(http(netns, port: p1))")
                #expect(http(netns, port: p2).count == 3, "\(http(netns, port: p2))")
            }
            let clientAggregates = records.aggregates("http_aggregate", cgroup: client.cgroupID, role: "client")
            let serverAggregates = records.aggregates("http_aggregate", cgroup: server.cgroupID, role: "server")
            #expect(clientAggregates.filter { $0.int("dst_port") == p1 }.aggregateCounts
                == ["GET /ok HTTP/1.1 200": 3, "GET /missing HTTP/1.1 404": 1], "\(clientAggregates)")
            #expect(clientAggregates.filter { $0.int("dst_port") == p2 }.aggregateCounts
                == ["GET /ok HTTP/1.1 200": 2, "GET /missing HTTP/1.1 404": 1])
            #expect(serverAggregates.filter { $0.int("src_port") == p1 }.aggregated == 4)
            #expect(serverAggregates.filter { $0.int("src_port") == p2 }.aggregated == 3)
        }
    }

    @Test func anExcludedPodsQueriesAreNotCollected() throws {
        try withLab(pods: 3) { _, pods in
            let (excluded, kept, server) = (pods[0], pods[1], pods[2])
            let dnsmasq = try L7Peers.runDnsmasq(in: server, ip: server.ipv4)
            defer { _ = dnsmasq.terminate() }
            let file = try L7Peers.rulesFile(#"{"cgroups": {"mode": "exclude", "values": [\#(excluded.cgroupID)]}, "l7_sample_every": 1}"#)
            defer { try? FileManager.default.removeItem(atPath: file) }
            let agent = try AgentRun(extraArguments: ["--rules", file])
            func ask(_ pod: Pod, _ name: String, times: Int) throws -> [Int] {
                try (0..<times).map { _ in
                    let out = try pod.check(L7Peers.dig(server: server.ipv4, name: name, type: "A")).stdout
                    return try #require(L7Peers.digHeader(out), "dig said: \(out)").id
                }
            }
            _ = try ask(excluded, "nothing.svc.lab", times: 2)
            let keptIDs = try ask(kept, "a.svc.lab", times: 3)
            Thread.sleep(forTimeInterval: 0.4)
            let records = try agent.stop()

            #expect(records.filter { Self.l7Kinds.contains($0.kind) && $0.uint("cgroup_id") == excluded.cgroupID }.isEmpty)
            #expect(records.l7("dns", netns: excluded.netnsInode).isEmpty)
            let keptSide = records.l7("dns", netns: kept.netnsInode)
            #expect(keptSide.map { $0.int("dns_transaction_id") }.sorted() == keptIDs.sorted(), "\(keptSide)")
            #expect(records.aggregates("dns_aggregate", cgroup: kept.cgroupID, role: "client").aggregateCounts
                == ["a.svc.lab A NOERROR": 3])
            // The server's socket is in a pod the rule keeps: it saw every query.
            #expect(records.aggregates("dns_aggregate", cgroup: server.cgroupID, role: "server").aggregateCounts
                == ["a.svc.lab A NOERROR": 3, "nothing.svc.lab A NXDOMAIN": 2])
            #expect(records.l7("dns", netns: server.netnsInode).count == 5)
        }
    }
}
