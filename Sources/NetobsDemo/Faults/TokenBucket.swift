/// The bandwidth fault's lever: a token bucket filter (tc `tbf`) as the root qdisc of the pod's
/// eth0, so that what the pod sends leaves at `kbit` kbit/s at most. Packets wait in its queue
/// up to `queueMs` (queueing delay, which the pod's TCP sees as RTT), beyond which they are
/// dropped (retransmitted). The burst is one full-size packet and a bit, so that a cap well
/// below the link's speed is a cap from the first packet on.
public enum TokenBucket {
    public static let burstBytes = 3000
    public static let queueMs = 500

    /// `tc` arguments (for `tc -n <netns>`) that put the cap in place.
    public static func add(kbit: Int) -> [String] {
        ["qdisc", "replace", "dev", "eth0", "root", "tbf", "rate", "\(kbit)kbit", "burst", String(burstBytes),
         "latency", "\(queueMs)ms"]
    }

    public static let show = ["-s", "qdisc", "show", "dev", "eth0"]
    public static let delete = ["qdisc", "del", "dev", "eth0", "root"]

    /// What the qdisc counted, from `tc -s qdisc show`:
    /// ` Sent 123 bytes 4 pkt (dropped 5, overlimits 6 requeues 0)`.
    public static func stats(_ output: String) -> [String: Double] {
        guard let line = output.split(separator: "\n").first(where: { $0.contains("Sent ") }) else { return [:] }
        let words = line.replacingOccurrences(of: "(", with: " ").replacingOccurrences(of: ")", with: " ")
            .replacingOccurrences(of: ",", with: " ").split(separator: " ").map(String.init)
        func after(_ word: String) -> Double? {
            guard let i = words.firstIndex(of: word), i + 1 < words.count else { return nil }
            return Double(words[i + 1])
        }
        func before(_ word: String) -> Double? {
            guard let i = words.firstIndex(of: word), i > 0 else { return nil }
            return Double(words[i - 1])
        }
        var out: [String: Double] = [:]
        out["sent_bytes"] = before("bytes")
        out["sent_packets"] = before("pkt")
        out["dropped_packets"] = after("dropped")
        out["overlimits"] = after("overlimits")
        return out.compactMapValues { $0 }
    }
}
