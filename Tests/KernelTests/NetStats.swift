import NodeLab

/// The kernel's own per-namespace TCP counters (/proc/net/snmp and /proc/net/netstat as
/// nstat reads them): ground truth for retransmissions and loss probes.
struct NetStats {
    let values: [String: UInt64]

    static func read(in pod: Pod) throws -> NetStats {
        let text = try pod.check(["cat", "/proc/net/snmp", "/proc/net/netstat"]).stdout
        var values: [String: UInt64] = [:]
        let lines = text.split(separator: "\n")
        for (header, data) in zip(lines, lines.dropFirst()) where header.split(separator: " ").first == data.split(separator: " ").first {
            let names = header.split(separator: " "), numbers = data.split(separator: " ")
            let prefix = names[0].dropLast() // "Tcp:" -> "Tcp"
            for (name, number) in zip(names.dropFirst(), numbers.dropFirst()) {
                values["\(prefix)\(name)"] = UInt64(number) ?? 0
            }
        }
        return NetStats(values: values)
    }

    func delta(_ key: String, since earlier: NetStats) -> UInt64 {
        (values[key] ?? 0) &- (earlier.values[key] ?? 0)
    }
}
