/// The iptables rules of the network faults, as argument lists for `iptables -w` in the
/// pod's netns. Each carries a comment naming the demo, so it can be found, counted and
/// deleted by its exact spec. Only eth0 is touched: the pod's own loopback is left alone.
public enum IptablesRules {
    public static let comment = "netobs-demo-fault"

    public struct Rule: Sendable, Equatable {
        public let chain: String
        /// Everything after the chain: matches and target.
        public let spec: [String]

        public var insert: [String] { ["-I", chain, "1"] + spec }
        public var delete: [String] { ["-D", chain] + spec }
    }

    /// Random loss both ways: DROP `percent`% of what enters and what leaves eth0.
    public static func loss(percent: Double) -> [Rule] {
        let tail = random(percent) + tag + ["-j", "DROP"]
        return [Rule(chain: "INPUT", spec: ["-i", "eth0"] + tail),
                Rule(chain: "OUTPUT", spec: ["-o", "eth0"] + tail)]
    }

    /// `percent`% of the TCP segments reaching `port` are answered with a reset: new
    /// connections are refused (RST to the SYN), established ones are torn down.
    public static func reset(port: Int, percent: Double) -> [Rule] {
        [Rule(chain: "INPUT", spec: ["-i", "eth0", "-p", "tcp", "--dport", String(port)] + random(percent) + tag
            + ["-j", "REJECT", "--reject-with", "tcp-reset"])]
    }

    /// A partition from `peer` (an IPv4 address): DROP everything from it and to it.
    public static func partition(peer: String) -> [Rule] {
        [Rule(chain: "INPUT", spec: ["-i", "eth0", "-s", peer] + tag + ["-j", "DROP"]),
         Rule(chain: "OUTPUT", spec: ["-o", "eth0", "-d", peer] + tag + ["-j", "DROP"])]
    }

    /// Counts (no target) the connection attempts reaching `port`: what a killed pod refused.
    public static func countConnects(port: Int) -> [Rule] {
        [Rule(chain: "INPUT", spec: ["-i", "eth0", "-p", "tcp", "--dport", String(port), "--syn"] + tag)]
    }

    /// Packets matched by the demo's rules, summed, from `iptables -w -L <chain> -v -x -n`.
    public static func packets(inListing listing: String) -> UInt64 {
        listing.split(separator: "\n").filter { $0.contains("/* \(comment) */") }
            .compactMap { UInt64($0.split(separator: " ").first ?? "") }
            .reduce(0, +)
    }

    private static let tag = ["-m", "comment", "--comment", comment]

    /// The statistic match, left out at 100%.
    private static func random(_ percent: Double) -> [String] {
        guard percent < 100 else { return [] }
        return ["-m", "statistic", "--mode", "random", "--probability", format6(percent / 100)]
    }

    /// iptables reads the probability as a decimal; six places is finer than it keeps.
    private static func format6(_ value: Double) -> String {
        let scaled = (value * 1_000_000).rounded()
        let whole = Int(scaled) / 1_000_000
        var fraction = String(Int(scaled) % 1_000_000)
        fraction = String(repeating: "0", count: 6 - fraction.count) + fraction
        while fraction.hasSuffix("0") { fraction.removeLast() }
        return fraction.isEmpty ? "\(whole)" : "\(whole).\(fraction)"
    }
}
