import Foundation
import NodeLab
import Testing

/// Retransmissions, drops and tail loss probes under loss injected with iptables, against
/// the kernel's own counters (nstat's /proc/net/snmp and netstat, iptables rule counters).
@Suite(.serialized, rootOnly)
struct LossSignalTests {
    @Test func randomLossRaisesRetransmitsOnlyOnTheLossyPodsFlows() throws {
        try withLab(pods: 4) { _, pods in
            // Two senders in pods of their own, so that each one's kernel counters are the
            // ground truth of exactly one flow.
            let (toLossySender, lossy, toCleanSender, clean) = (pods[0], pods[1], pods[2], pods[3])
            let port = freshPort(), bytes = 8_000_000
            let agent = try AgentRun()
            let lossyServer = try lossy.spawn(Peers.tcpServer(ip: lossy.ipv4, port: port, expect: bytes, reply: 1))
            let cleanServer = try clean.spawn(Peers.tcpServer(ip: clean.ipv4, port: port, expect: bytes, reply: 1))
            try lossyServer.waitForOutput("ready")
            try cleanServer.waitForOutput("ready")
            let c1 = try toLossySender.spawn(Peers.tcpClient(ip: lossy.ipv4, port: port, send: bytes, expect: 1, pause: 0.5))
            let c2 = try toCleanSender.spawn(Peers.tcpClient(ip: clean.ipv4, port: port, send: bytes, expect: 1, pause: 0.5))
            try c1.waitForOutput("connected")
            try c2.waitForOutput("connected")
            // Loss only once connected, so that every dropped packet has a socket to blame.
            let lossyBefore = try NetStats.read(in: toLossySender), cleanBefore = try NetStats.read(in: toCleanSender)
            let rule = ["INPUT", "-p", "tcp", "--dport", String(port), "-m", "statistic",
                        "--mode", "random", "--probability", "0.05", "-j", "DROP"]
            try lossy.iptables(["-A"] + rule)
            try c1.waitUntilExit(timeout: .seconds(60))
            try c2.waitUntilExit(timeout: .seconds(60))
            try lossyServer.waitUntilExit(timeout: .seconds(10))
            let dropped = try droppedPackets(lossy)
            try lossy.iptables(["-D"] + rule)
            let lossyRetransmitted = try NetStats.read(in: toLossySender).delta("TcpRetransSegs", since: lossyBefore)
            let cleanRetransmitted = try NetStats.read(in: toCleanSender).delta("TcpRetransSegs", since: cleanBefore)
            Thread.sleep(forTimeInterval: 0.3)
            let records = try agent.stop()

            let lossyFlow = records.toward(kind: "tcp", netns: toLossySender.netnsInode, port: port)
            let cleanFlow = records.toward(kind: "tcp", netns: toCleanSender.netnsInode, port: port)
            #expect(dropped > 0)
            #expect(lossyRetransmitted > 0)
            #expect(lossyFlow.sum("tcp_retransmit") == lossyRetransmitted, "kernel says \(lossyRetransmitted)")
            #expect(lossyFlow.sum("tcp_tx_bytes") == UInt64(bytes))
            // The clean path loses nothing, but on 2 busy cores an ACK can come later than a probe
            // or retransmission timer: the kernel then counts a few spurious repairs, which the agent
            // must report just the same, far fewer than the lossy path's (45 against 430 seen on a
            // loaded machine; 5% loss on 8 MB is some 275 drops, each repaired).
            #expect(cleanFlow.sum("tcp_retransmit") == cleanRetransmitted)
            #expect(cleanRetransmitted * 5 < lossyRetransmitted, "clean \(cleanRetransmitted), lossy \(lossyRetransmitted)")

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
