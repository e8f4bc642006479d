import Foundation
import NodeLab
import Testing

/// DNS over UDP parsed from the wire, against dnsmasq answering dig in lab pods: each query is
/// counted in the aggregate of its name, type and the status dig printed, and the first of a
/// key, every error and every timeout is an exemplar with dig's transaction id.
@Suite(.serialized, rootOnly)
struct DNSTests {
    @Test func queriesAndAnswersMatchDig() throws {
        try withLab(pods: 2) { _, pods in
            let (client, server) = (pods[0], pods[1])
            let srv = try L7Peers.runDnsmasq(in: server, ip: server.ipv4)
            defer { _ = srv.terminate() }
            let agent = try AgentRun()

            let questions = [("a.svc.lab", "A", "NOERROR"), ("v6.svc.lab", "AAAA", "NOERROR"),
                             ("svc.lab", "MX", "NOERROR"), ("nothing.svc.lab", "A", "NXDOMAIN")]
            var asked: [(id: Int, name: String, type: String, status: String)] = []
            for (name, type, status) in questions {
                let out = try client.check(L7Peers.dig(server: server.ipv4, name: name, type: type)).stdout
                let header = try #require(L7Peers.digHeader(out), "dig said: \(out)")
                #expect(header.status == status, "\(name) \(type)")
                asked.append((header.id, name, type, header.status))
            }
            Thread.sleep(forTimeInterval: 0.4)
            let records = try agent.stop()

            let clientSide = records.l7("dns", netns: client.netnsInode)
            let serverSide = records.l7("dns", netns: server.netnsInode)
            #expect(clientSide.count == asked.count && serverSide.count == asked.count, "\(records.filter { $0.kind == "dns" })")
            for q in asked {
                for (side, role) in [(clientSide, "client"), (serverSide, "server")] {
                    let r = try #require(side.first { $0.int("dns_transaction_id") == q.id }, "\(role) misses id \(q.id)")
                    #expect(r.string("dns_query_domain") == q.name)
                    #expect(r.string("dns_query_type") == q.type)
                    #expect(r.string("dns_response_code") == q.status)
                    #expect(r.string("role") == role)
                    #expect(r.uint("dns_duration") > 0)
                }
            }
            for r in clientSide {
                #expect(r.string("src_ip") == client.ipv4 && r.string("dst_ip") == server.ipv4 && r.int("dst_port") == 53)
                #expect(r.uint("cgroup_id") == client.cgroupID)
                #expect(r.string("comm") == "dig" || r.string("comm").hasPrefix("isc-"), "\(r)")
            }
            for r in serverSide {
                #expect(r.int("src_port") == 53 && r.string("dst_ip") == client.ipv4)
                #expect(r.uint("cgroup_id") == server.cgroupID)
                #expect(r.int("pid") == Int(srv.pid) && r.string("comm") == "dnsmasq")
            }
            let ones = Dictionary(uniqueKeysWithValues: questions.map { ("\($0.0) \($0.1) \($0.2)", UInt64(1)) })
            let clientAggregates = records.aggregates("dns_aggregate", cgroup: client.cgroupID, role: "client")
            let serverAggregates = records.aggregates("dns_aggregate", cgroup: server.cgroupID, role: "server")
            #expect(clientAggregates.aggregateCounts == ones, "\(clientAggregates)")
            #expect(serverAggregates.aggregateCounts == ones)
            #expect((clientAggregates + serverAggregates).histogramsMatchCounts)
            #expect(clientAggregates.allSatisfy { $0.string("dst_ip") == server.ipv4 && $0.int("dst_port") == 53 })
            #expect(serverAggregates.allSatisfy { $0.string("src_ip") == server.ipv4 && $0.int("src_port") == 53 })
        }
    }

    /// The same questions again and again: every one counted, NXDOMAIN answers always
    /// exemplars, the others sampled.
    @Test func repeatedQueriesAreCountedAndErrorsAlwaysKept() throws {
        try withLab(pods: 2) { _, pods in
            let (client, server) = (pods[0], pods[1])
            let srv = try L7Peers.runDnsmasq(in: server, ip: server.ipv4)
            defer { _ = srv.terminate() }
            let agent = try AgentRun()
            var nxdomainIDs: [Int] = []
            for (name, times) in [("a.svc.lab", 20), ("nothing.svc.lab", 5)] {
                for _ in 0..<times {
                    let out = try client.check(L7Peers.dig(server: server.ipv4, name: name, type: "A")).stdout
                    let header = try #require(L7Peers.digHeader(out), "dig said: \(out)")
                    if header.status == "NXDOMAIN" { nxdomainIDs.append(header.id) }
                }
            }
            Thread.sleep(forTimeInterval: 0.4)
            let records = try agent.stop()

            let expected: [String: UInt64] = ["a.svc.lab A NOERROR": 20, "nothing.svc.lab A NXDOMAIN": 5]
            #expect(records.aggregates("dns_aggregate", cgroup: client.cgroupID, role: "client").aggregateCounts == expected)
            #expect(records.aggregates("dns_aggregate", cgroup: server.cgroupID, role: "server").aggregateCounts == expected)
            let cpus = ProcessInfo.processInfo.activeProcessorCount
            for netns in [client.netnsInode, server.netnsInode] {
                let exemplars = records.l7("dns", netns: netns)
                let errors = exemplars.filter { $0.string("dns_response_code") == "NXDOMAIN" }
                #expect(errors.map { $0.int("dns_transaction_id") }.sorted() == nxdomainIDs.sorted())
                #expect(errors.allSatisfy { $0.string("exemplar") == "error" })
                let sampled = exemplars.filter { $0.string("dns_response_code") == "NOERROR" }
                #expect(sampled.count >= 1 && sampled.count <= cpus, "\(sampled.count) samples of 20")
            }
        }
    }

    /// DNS over TCP (length-prefixed messages): dig +tcp against dnsmasq.
    @Test func queriesOverTCPMatchDig() throws {
        try withLab(pods: 2) { _, pods in
            let (client, server) = (pods[0], pods[1])
            let srv = try L7Peers.runDnsmasq(in: server, ip: server.ipv4)
            defer { _ = srv.terminate() }
            let agent = try AgentRun()
            var asked: [(id: Int, name: String, type: String, status: String)] = []
            for (name, type) in [("a.svc.lab", "A"), ("v6.svc.lab", "AAAA"), ("nothing.svc.lab", "A")] {
                let out = try client.check(L7Peers.dig(server: server.ipv4, name: name, type: type) + ["+tcp"]).stdout
                let header = try #require(L7Peers.digHeader(out), "dig said: \(out)")
                asked.append((header.id, name, type, header.status))
            }
            Thread.sleep(forTimeInterval: 0.4)
            let records = try agent.stop()

            let clientSide = records.l7("dns", netns: client.netnsInode)
            let serverSide = records.l7("dns", netns: server.netnsInode)
            print("dns over tcp: asked \(asked.count), client records \(clientSide.count), server \(serverSide.count)")
            #expect(clientSide.count == asked.count && serverSide.count == asked.count, "\(records.filter { $0.kind == "dns" })")
            for q in asked {
                for (side, role) in [(clientSide, "client"), (serverSide, "server")] {
                    let r = try #require(side.first { $0.int("dns_transaction_id") == q.id }, "\(role) misses id \(q.id)")
                    #expect(r.string("dns_query_domain") == q.name && r.string("dns_query_type") == q.type)
                    #expect(r.string("dns_response_code") == q.status && r.string("role") == role)
                    #expect(r.uint("dns_duration") > 0)
                }
            }
            #expect(asked.map(\.status) == ["NOERROR", "NOERROR", "NXDOMAIN"])
            #expect(clientSide.allSatisfy { $0.int("dst_port") == 53 && $0.uint("cgroup_id") == client.cgroupID })
            #expect(serverSide.allSatisfy { $0.int("src_port") == 53 && $0.uint("cgroup_id") == server.cgroupID })
            #expect(records.lossTotal("dns_unparsed") == 0)
        }
    }

    @Test func anUnansweredQueryIsATimeout() throws {
        try withLab(pods: 2) { _, pods in
            let (client, server) = (pods[0], pods[1])
            // A UDP socket that reads and never answers: the query is delivered, no ICMP error.
            let silent = try server.spawn([Peers.python, "-c", """
                import socket, sys, time
                s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind((sys.argv[1], 53))
                print('ready', flush=True)
                while True: s.recvfrom(4096)
                """, server.ipv4])
            defer { _ = silent.terminate() }
            try silent.waitForOutput("ready")
            let agent = try AgentRun()
            let out = try client.run(L7Peers.dig(server: server.ipv4, name: "gone.svc.lab", type: "A")).stdout
            #expect(out.contains("timed out"), "dig said: \(out)")
            Thread.sleep(forTimeInterval: 6) // past the agent's 5 s DNS timeout
            let records = try agent.stop()

            let timeouts = records.l7("dns", netns: client.netnsInode)
            #expect(timeouts.count == 1, "\(records.filter { $0.kind == "dns" })")
            let r = try #require(timeouts.first)
            #expect(r.string("dns_response_code") == "TIMEOUT")
            #expect(r.string("dns_query_domain") == "gone.svc.lab" && r.string("dns_query_type") == "A")
            #expect(r.uint("dns_duration") >= 5_000_000_000)
            #expect(r.string("exemplar") == "error")
            // The silent server's socket saw the query too, and never answered it.
            #expect(records.l7("dns", netns: server.netnsInode).map { $0.string("dns_response_code") } == ["TIMEOUT"])
            // Counted in an aggregate like any answer.
            #expect(records.aggregates("dns_aggregate", cgroup: client.cgroupID, role: "client").aggregateCounts
                == ["gone.svc.lab A TIMEOUT": 1])
            #expect(records.aggregates("dns_aggregate", cgroup: server.cgroupID, role: "server").aggregateCounts
                == ["gone.svc.lab A TIMEOUT": 1])
        }
    }

    @Test func garbageOnPort53IsCountedNotRecorded() throws {
        try withLab(pods: 2) { _, pods in
            let (client, server) = (pods[0], pods[1])
            let srv = try L7Peers.runDnsmasq(in: server, ip: server.ipv4)
            defer { _ = srv.terminate() }
            let agent = try AgentRun()
            try client.check(L7Peers.garbage(ip: server.ipv4, port: 53, udp: true, count: 20))
            let out = try client.check(L7Peers.dig(server: server.ipv4, name: "a.svc.lab", type: "A")).stdout
            #expect(L7Peers.digHeader(out)?.status == "NOERROR")
            Thread.sleep(forTimeInterval: 0.4)
            let records = try agent.stop()

            print("dns_unparsed total: \(records.lossTotal("dns_unparsed"))")
            #expect(records.lossTotal("dns_unparsed") >= 2 * 20) // leaving the client, arriving at the server
            #expect(records.l7("dns", netns: client.netnsInode).map { $0.string("dns_query_domain") } == ["a.svc.lab"])
        }
    }
}
