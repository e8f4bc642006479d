import Foundation
import NodeLab
import Testing

/// tcp_rtt against what `ss -ti` reports for the same connection while it runs.
@Suite(.serialized, rootOnly)
struct RTTTests {
    @Test func smoothedRTTIsWithinTheBoundsSSReports() throws {
        try withLab(pods: 2) { _, pods in
            let (sender, receiver) = (pods[0], pods[1])
            let port = freshPort(), bytes = 3_000_000
            let agent = try AgentRun(interval: "300ms")
            let srv = try receiver.spawn(Peers.tcpServer(ip: receiver.ipv4, port: port, expect: bytes, reply: 1))
            try srv.waitForOutput("ready")
            let cli = try sender.spawn(Peers.tcpPacedClient(ip: receiver.ipv4, port: port, chunks: 60, chunkSize: 50_000,
                                                            pause: 0.03))
            var samples: [SSSample] = []
            while cli.isRunning {
                let out = try sender.run(["ss", "-tin", "dst", "\(receiver.ipv4):\(port)"]).stdout
                if let sample = SSSample(out) { samples.append(sample) }
                Thread.sleep(forTimeInterval: 0.05)
            }
            try srv.waitUntilExit(timeout: .seconds(10))
            Thread.sleep(forTimeInterval: 0.4)
            let records = try agent.stop().toward(kind: "tcp", netns: sender.netnsInode, port: port)
            try #require(samples.count >= 5, "ss saw the connection \(samples.count) times")

            // srtt moves between the smallest RTT ss saw and its largest srtt + 4 rttvar.
            let low = samples.map(\.minRTTns).min()!
            let high = samples.map { $0.srttNs + 4 * $0.rttvarNs }.max()!
            let ours = records.map { $0.uint("tcp_rtt") }.filter { $0 > 0 }
            try #require(!ours.isEmpty)
            for rtt in ours {
                #expect(rtt + 1000 >= low && rtt <= high + 1000, "tcp_rtt \(rtt) ns outside ss bounds [\(low), \(high)]")
            }
            for r in records where r["tcp_rtt_min"] != nil {
                #expect(r.uint("tcp_rtt_min") <= r.uint("tcp_rtt_max"))
                #expect(r.uint("tcp_rtt_min") + 1000 >= low && r.uint("tcp_rtt_max") <= high + 1000)
            }
        }
    }
}

/// One `ss -tin` line: "rtt:0.052/0.026 ... minrtt:0.021" (milliseconds).
struct SSSample {
    let srttNs: UInt64, rttvarNs: UInt64, minRTTns: UInt64

    init?(_ text: String) {
        func ms(_ s: Substring) -> UInt64? { Double(s).map { UInt64($0 * 1_000_000) } }
        var srtt: UInt64?, rttvar: UInt64?, minRTT: UInt64?
        for token in text.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" }) {
            if token.hasPrefix("rtt:") {
                let parts = token.dropFirst(4).split(separator: "/")
                if parts.count == 2 { srtt = ms(parts[0]); rttvar = ms(parts[1]) }
            } else if token.hasPrefix("minrtt:") {
                minRTT = ms(token.dropFirst(7))
            }
        }
        guard let srtt, let rttvar, let minRTT else { return nil }
        (srttNs, rttvarNs, minRTTns) = (srtt, rttvar, minRTT)
    }
}
