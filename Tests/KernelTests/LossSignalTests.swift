import Foundation
import NodeLab
import Testing

/// Retransmissions, drops and tail loss probes under loss injected with iptables, against
/// the kernel's own counters (nstat's /proc/net/snmp and netstat, iptables rule counters).
@Suite(.serialized, rootOnly)
struct LossSignalTests {
    @Test func randomLossRaisesRetransmitsOnlyOnTheLossyPodsFlows() throws {
        try withLab(pods: 3) { _, pods in
            let (sender, lossy, clean) = (pods[0], pods[1], pods[2])
            let port = freshPort(), bytes = 8_000_000
            let agent = try AgentRun()
            let toLossy = try lossy.spawn(Peers.tcpServer(ip: lossy.ipv4, port: port, expect: bytes, reply: 1))
            let toClean = try clean.spawn(Peers.tcpServer(ip: clean.ipv4, port: port, expect: bytes, reply: 1))
            try toLossy.waitForOutput("ready")
            try toClean.waitForOutput("ready")
            let c1 = try sender.spawn(Peers.tcpClient(ip: lossy.ipv4, port: port, send: bytes, expect: 1, pause: 0.5))
            let c2 = try sender.spawn(Peers.tcpClient(ip: clean.ipv4, port: port, send: bytes, expect: 1, pause: 0.5))
            try c1.waitForOutput("connected")
            try c2.waitForOutput("connected")
            // Loss only once connected, so that every dropped packet has a socket to blame.
            let before = try NetStats.read(in: sender)
            let rule = ["INPUT", "-p", "tcp", "--dport", String(port), "-m", "statistic",
                        "--mode", "random", "--probability", "0.05", "-j", "DROP"]
            try lossy.iptables(["-A"] + rule)
            try c1.waitUntilExit(timeout: .seconds(60))
            try c2.waitUntilExit(timeout: .seconds(60))
            try toLossy.waitUntilExit(timeout: .seconds(10))
            let dropped = try droppedPackets(lossy)
            try lossy.iptables(["-D"] + rule)
            let after = try NetStats.read(in: sender)
            Thread.sleep(forTimeInterval: 0.3)
            let records = try agent.stop()

            let lossyFlow = records.toward(kind: "tcp", netns: sender.netnsInode, port: port)
                .filter { $0.string("dst_ip") == lossy.ipv4 }
            let cleanFlow = records.toward(kind: "tcp", netns: sender.netnsInode, port: port)
                .filter { $0.string("dst_ip") == clean.ipv4 }
            let retransmitted = after.delta("TcpRetransSegs", since: before)
            #expect(dropped > 0)
            #expect(retransmitted > 0)
            #expect(lossyFlow.sum("tcp_retransmit") == retransmitted, "kernel says \(retransmitted)")
            #expect(cleanFlow.sum("tcp_retransmit") == 0)
            #expect(lossyFlow.sum("tcp_tx_bytes") == UInt64(bytes))

            // The receiver's flow carries the drops, with their reason.
            let receiver = records.local(kind: "tcp", netns: lossy.netnsInode, port: port)
            #expect(receiver.sum("tcp_drop") == dropped, "iptables dropped \(dropped)")
            let reasons = receiver.compactMap { $0["tcp_drop_reasons"] as? [String] }.flatMap { $0 }
            #expect(reasons.contains("NETFILTER_DROP"))
            #expect(records.local(kind: "tcp", netns: clean.netnsInode, port: port).sum("tcp_drop") == 0)
        }
    }

    @Test func lossAtTheTailOfABurstRaisesTailLossProbes() throws {
        try withLab(pods: 2) { _, pods in
            let (sender, receiver) = (pods[0], pods[1])
            let port = freshPort(), bytes = 8_000
            let agent = try AgentRun()
            let srv = try receiver.spawn(Peers.tcpServer(ip: receiver.ipv4, port: port, expect: bytes, reply: 1))
            try srv.waitForOutput("ready")
            let cli = try sender.spawn(Peers.tcpClient(ip: receiver.ipv4, port: port, send: bytes, expect: 1, pause: 0.5))
            try cli.waitForOutput("connected")
            // Everything is dropped while a burst that fits the initial window goes out: its tail
            // is never acknowledged, so the sender probes (TLP) before its retransmission timer.
            let before = try NetStats.read(in: sender)
            let rule = ["INPUT", "-p", "tcp", "--dport", String(port), "-j", "DROP"]
            try receiver.iptables(["-A"] + rule)
            Thread.sleep(forTimeInterval: 0.8)
            try receiver.iptables(["-D"] + rule)
            try cli.waitUntilExit(timeout: .seconds(30))
            let after = try NetStats.read(in: sender)
            Thread.sleep(forTimeInterval: 0.3)
            let records = try agent.stop()

            let probes = after.delta("TcpExtTCPLossProbes", since: before)
            let flow = records.toward(kind: "tcp", netns: sender.netnsInode, port: port)
            #expect(probes > 0, "the kernel sent no loss probe")
            #expect(flow.sum("tcp_tlp") == probes, "kernel says \(probes)")
            #expect(flow.sum("tcp_retransmit") == after.delta("TcpRetransSegs", since: before))
        }
    }

    private func droppedPackets(_ pod: Pod) throws -> UInt64 {
        let listing = try pod.iptables(["-L", "INPUT", "-v", "-x", "-n"])
        return listing.split(separator: "\n").filter { $0.contains("DROP") }
            .compactMap { UInt64($0.split(separator: " ").first ?? "") }.reduce(0, +)
    }
}
