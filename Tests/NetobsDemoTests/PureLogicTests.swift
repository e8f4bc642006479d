import Foundation
import Testing
@testable import NetobsDemo

/// The demo's pure pieces: DNS files, topology, iptables rules, timeline, labels, wrk output.
@Suite struct PureLogicTests {
    static let pods = SockShop.components.enumerated().map { i, component in
        DemoPod(component: component, uid: "uid-\(i)", ipv4: "10.244.7.\(i + 2)", ipv6: "fd00:10:244:7::\(i + 2)")
    }

    @Test func hostsFileNamesEveryServingPodAndHidesOnRequest() {
        let hosts = ClusterDNS.hostsFile(Self.pods)
        #expect(hosts.contains("10.244.7.3 catalogue.sock-shop.svc.cluster.local\n"))
        #expect(hosts.contains("10.244.7.5 carts-db.sock-shop.svc.cluster.local\n"))
        #expect(hosts.contains("kube-dns.kube-system.svc.cluster.local"))
        #expect(!hosts.contains("load-generator"))
        #expect(hosts.split(separator: "\n").count == 9)
        let hidden = ClusterDNS.hostsFile(Self.pods, hiding: ["payment.sock-shop.svc.cluster.local"])
        #expect(!hidden.contains("payment"))
        #expect(hidden.split(separator: "\n").count == 8)
    }

    @Test func resolvConfSearchesThePodsNamespaceFirst() {
        let conf = ClusterDNS.resolvConf(namespace: "sock-shop", nameserver: "10.244.7.10")
        #expect(conf.contains("search sock-shop.svc.cluster.local svc.cluster.local cluster.local\n"))
        #expect(conf.contains("nameserver 10.244.7.10\n"))
        #expect(conf.contains("options ndots:5"))
    }

    @Test func topologyFileFollowsTheControllersSchema() throws {
        let json = try DemoTopology.json(node: "demo-node", nodeIPs: ["127.0.0.1"], pods: Self.pods)
        let object = try #require(try JSONSerialization.jsonObject(with: json) as? [String: Any])
        #expect(Set(object.keys) == ["nodes", "pods", "services"])
        let nodes = try #require(object["nodes"] as? [[String: Any]])
        #expect(nodes.count == 1 && nodes[0]["name"] as? String == "demo-node")
        let pods = try #require(object["pods"] as? [[String: Any]])
        #expect(pods.count == SockShop.components.count)
        let carts = try #require(pods.first { $0["name"] as? String == "carts" })
        #expect(Set(carts.keys) == ["name", "namespace", "uid", "ips", "node", "host_network", "labels", "workload"])
        #expect(carts["ips"] as? [String] == ["10.244.7.4", "fd00:10:244:7::4"])
        #expect(carts["host_network"] as? Bool == false)
        #expect(carts["labels"] as? [String: String] == ["app": "carts"])
        #expect(carts["workload"] as? String == "deployment/carts")
        let services = try #require(object["services"] as? [[String: Any]])
        #expect(services.count == 9)   // every component but the load generator
        let dns = try #require(services.first { $0["name"] as? String == "kube-dns" })
        #expect(dns["namespace"] as? String == "kube-system")
        #expect(dns["cluster_ips"] as? [String] == [])
        let ports = try #require(dns["ports"] as? [[String: Any]])
        #expect(ports.map { $0["protocol"] as? String } == ["UDP", "TCP"])
        #expect(ports.allSatisfy { $0["port"] as? Int == 53 && $0["target_port"] as? Int == 53 })
        #expect(dns["selector"] as? [String: String] == ["app": "kube-dns"])
    }

    @Test func lossRulesDropBothWaysOnEth0() {
        let rules = IptablesRules.loss(percent: 30)
        #expect(rules.map(\.insert) == [
            ["-I", "INPUT", "1", "-i", "eth0", "-m", "statistic", "--mode", "random", "--probability", "0.3",
             "-m", "comment", "--comment", "netobs-demo-fault", "-j", "DROP"],
            ["-I", "OUTPUT", "1", "-o", "eth0", "-m", "statistic", "--mode", "random", "--probability", "0.3",
             "-m", "comment", "--comment", "netobs-demo-fault", "-j", "DROP"],
        ])
        #expect(rules[0].delete == ["-D", "INPUT"] + rules[0].spec)
        #expect(IptablesRules.loss(percent: 12.5)[0].spec.contains("0.125"))
        #expect(IptablesRules.loss(percent: 100)[0].spec == ["-i", "eth0", "-m", "comment", "--comment", "netobs-demo-fault", "-j", "DROP"])
    }

    @Test func resetRuleAnswersTheServingPortWithResets() {
        #expect(IptablesRules.reset(port: 6379, percent: 100).map(\.insert) == [
            ["-I", "INPUT", "1", "-i", "eth0", "-p", "tcp", "--dport", "6379", "-m", "comment", "--comment", "netobs-demo-fault",
             "-j", "REJECT", "--reject-with", "tcp-reset"],
        ])
        #expect(IptablesRules.reset(port: 80, percent: 50)[0].spec.contains("0.5"))
    }

    /// `iptables -L INPUT -v -x -n` as iptables-nft 1.8.9 prints it.
    @Test func countsOnlyTheDemosRules() {
        let listing = """
            Chain INPUT (policy ACCEPT 1234 packets, 99999 bytes)
                pkts      bytes target     prot opt in     out     source               destination
                  74     5023 DROP       0    --  eth0   *       0.0.0.0/0            0.0.0.0/0            statistic mode random probability 0.30000000009 /* netobs-demo-fault */
                   9      540 ACCEPT     6    --  *      *       0.0.0.0/0            0.0.0.0/0            tcp dpt:22
            """
        #expect(IptablesRules.packets(inListing: listing) == 74)
        #expect(IptablesRules.packets(inListing: "Chain INPUT (policy ACCEPT)\n") == 0)
    }

    @Test func timelineStopsBeforeStartsAtTheSameInstant() {
        let scenario = Scenario(durationNs: 100, faults: [
            Fault(atNs: 10, lengthNs: 20, pod: "carts", kind: .dns),
            Fault(atNs: 30, lengthNs: 10, pod: "carts", kind: .delay(ms: 5)),
            Fault(atNs: 5, lengthNs: 50, pod: "user", kind: .loss(percent: 1)),
        ])
        #expect(FaultTimeline(scenario).events.map(\.action) == [.start(2), .start(0), .stop(0), .start(1), .stop(1), .stop(2)])
        #expect(FaultTimeline(scenario).events.map(\.atNs) == [5, 10, 30, 30, 40, 55])
    }

    @Test func labelLinesCarryTheContractsFields() throws {
        let fault = Fault(atNs: 0, lengthNs: 1, pod: "carts", kind: .loss(percent: 30))
        let line = try FaultLabel(fault: fault, startNs: 1_795_000_000_123_456_789, endNs: 1_795_000_030_987_654_321,
                                  effect: ["dropped_packets_in": 74]).jsonLine()
        #expect(line.hasSuffix("}\n") && !line.dropLast().contains("\n"))
        let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        #expect(object["start_ns"] as? Int64 == 1_795_000_000_123_456_789)
        #expect(object["end_ns"] as? Int64 == 1_795_000_030_987_654_321)
        #expect(object["pod"] as? String == "carts")
        #expect(object["namespace"] as? String == "sock-shop")
        #expect(object["kind"] as? String == "loss")
        #expect(object["params"] as? [String: Double] == ["percent": 30])
    }

    @Test func partitionAndConnectCountingRules() {
        #expect(IptablesRules.partition(peer: "10.244.7.2").map(\.insert) == [
            ["-I", "INPUT", "1", "-i", "eth0", "-s", "10.244.7.2", "-m", "comment", "--comment", "netobs-demo-fault", "-j", "DROP"],
            ["-I", "OUTPUT", "1", "-o", "eth0", "-d", "10.244.7.2", "-m", "comment", "--comment", "netobs-demo-fault", "-j", "DROP"],
        ])
        #expect(IptablesRules.countConnects(port: 80)[0].spec == ["-i", "eth0", "-p", "tcp", "--dport", "80", "--syn",
                                                                   "-m", "comment", "--comment", "netobs-demo-fault"])
    }

    @Test func tokenBucketArgumentsAndStatistics() {
        #expect(TokenBucket.add(kbit: 32) == ["qdisc", "replace", "dev", "eth0", "root", "tbf", "rate", "32kbit", "burst", "3000",
                                              "latency", "500ms"])
        let shown = """
            qdisc tbf 8001: root refcnt 2 rate 32Kbit burst 3000b lat 500ms
             Sent 102692 bytes 844 pkt (dropped 3, overlimits 2431 requeues 0)
             backlog 0b 0p requeues 0
            """
        #expect(TokenBucket.stats(shown) == ["sent_bytes": 102692, "sent_packets": 844, "dropped_packets": 3, "overlimits": 2431])
        #expect(TokenBucket.stats("") == [:])
    }

    @Test func cpuCapQuotaStatisticsAndTheV1Mount() {
        #expect(CPUCap.quotaUs(percent: 3) == 3000)
        #expect(CPUCap.quotaUs(percent: 0.1) == 1000)
        #expect(CPUCap.parseStat("nr_periods 217\nnr_throttled 117\nthrottled_time 8564000000\n")
            == ["nr_periods": 217, "nr_throttled": 117, "throttled_time": 8_564_000_000])
        let mounts = """
            cgroup /sys/fs/cgroup/cpuacct cgroup rw,relatime,cpuacct 0 0
            cgroup /sys/fs/cgroup/cpu,cpuacct cgroup rw,nosuid,cpu,cpuacct 0 0
            cgroup2 /sys/fs/cgroup/unified cgroup2 rw,relatime 0 0
            """
        #expect(CPUCap.v1Mount(mounts: mounts) == "/sys/fs/cgroup/cpu,cpuacct")
        #expect(CPUCap.v1Mount(mounts: "cgroup2 /sys/fs/cgroup cgroup2 rw 0 0") == nil)
    }

    @Test func labelsOfTheNewKindsCarryTheirParametersAndPeer() throws {
        let partition = FaultLabel(fault: Fault(atNs: 0, lengthNs: 1, pod: "payment", kind: .partition(peer: "orders", peerNamespace: "sock-shop")),
                                   startNs: 1, endNs: 2, effect: ["dropped_packets_in": 9])
        let object = try #require(try JSONSerialization.jsonObject(with: Data(try partition.jsonLine().utf8)) as? [String: Any])
        #expect(object["peer"] as? String == "orders" && object["peer_namespace"] as? String == "sock-shop")
        #expect(FaultLabel(fault: Fault(atNs: 0, lengthNs: 1, pod: "orders", kind: .cpu(percent: 4)), startNs: 1, endNs: 2, effect: [:]).params == ["percent": 4])
        #expect(FaultLabel(fault: Fault(atNs: 0, lengthNs: 1, pod: "user", kind: .bandwidth(kbit: 32)), startNs: 1, endNs: 2, effect: [:]).params == ["kbit": 32])
        let loss = try FaultLabel(fault: Fault(atNs: 0, lengthNs: 1, pod: "carts", kind: .loss(percent: 3)), startNs: 1, endNs: 2, effect: [:]).jsonLine()
        #expect(!loss.contains("peer"))
    }

    @Test func consumerDropsAreSummedFromTheTailLog() {
        let log = "netobs tail: connected to controller\nnetobs tail: 488 records dropped (reading too slowly)\nnetobs tail: 12 records dropped (reading too slowly)\n"
        #expect(DemoRun.consumerDropped(log: log) == 500)
        #expect(DemoRun.consumerDropped(log: "") == 0)
    }

    @Test func wrkSummaryIsRead() {
        let output = """
            Running 5m test @ http://front-end.sock-shop/
              1 threads and 6 connections
              Thread Stats   Avg      Stdev     Max   +/- Stdev
                Latency    20.12ms   30.00ms 400.00ms   90.00%
              754 requests in 30.10s, 300.00KB read
              Socket errors: connect 1, read 2, write 0, timeout 3
              Non-2xx or 3xx responses: 56
            Requests/sec:     25.05
            """
        #expect(LoadGenerator.parse(output) == .init(requests: 754, non2xx: 56, socketErrors: 6))
        #expect(LoadGenerator.parse("") == .init())
    }
}
