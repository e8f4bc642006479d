/// Random scenarios (`netobs demo --random-scenario SEED`): faults of every kind on any pod of
/// the application (sock-shop's services and carts-db; kube-dns and the load generator are left
/// alone), at random magnitudes, lengths and gaps, sometimes two at once on pods that do not
/// call each other, under a random load. The same seed gives the same scenario; every scenario
/// passes `ScenarioValidator`.
///
/// Shape: a quiet start of 40-55 s (the detectors' warm-up and the localizer's baseline), then
/// `faults` faults (default 3 or 4) of 20-35 s with 20-35 s between them; each fault after the
/// first overlaps the previous one with probability 0.35. The kinds of one scenario are
/// distinct (a shuffle of all eight), so a few seeds cover every kind.
public enum RandomScenario {
    /// Magnitudes drawn per kind (inclusive ranges).
    public static let lossPercent = 15...40
    public static let delayMs = 60...400
    public static let resetPercent = 25...75
    public static let cpuPercent = 1...3
    public static let bandwidthKbit = 16...64
    public static let loadConnections = 4...10
    public static let maxFaults = 8

    static let kinds = ["loss", "delay", "reset", "dns", "kill", "cpu", "partition", "bandwidth"]

    /// `loadConnections` given: the load the run uses instead of the drawn one (the draws, and so
    /// the faults, stay those of the seed).
    public static func make(seed: UInt64, faults requested: Int? = nil,
                            loadConnections load: Int? = nil) -> (scenario: Scenario, yaml: String) {
        var rng = SplitMix64(seed: seed)
        let drawnCount = rng.int(3...4)
        let count = min(maxFaults, max(1, requested ?? drawnCount))
        let drawnConnections = rng.int(loadConnections)
        let connections = load ?? drawnConnections
        let pods = SockShop.components.filter { $0.namespace == SockShop.appNamespace && ($0.role == .service || $0.role == .redis) }
        var kinds = rng.shuffled(kinds)
        while kinds.count < count { kinds += rng.shuffled(Self.kinds) }

        var faults: [Fault] = []
        var overlapped = false
        var nextFree = Int64(rng.int(40...55))
        for i in 0..<count {
            let length = Int64(rng.int(20...35))
            var at = nextFree
            var avoid = Set<String>()
            // Overlapping the previous fault (not a third at once), on pods that neither are nor talk to its pods.
            if let previous = faults.last, !overlapped, rng.chance(0.35) {
                at = previous.atNs / second + Int64(rng.int(5...Int(previous.lengthNs / second) - 8))
                for pod in involved(previous) { avoid.formUnion([pod] + SockShop.peers(of: pod).map(\.name)) }
            }
            var fault = pick(kind: kinds[i], rng: &rng, pods: pods, avoid: avoid, at: at, length: length)
            if fault == nil, !avoid.isEmpty {
                // No pod fits this kind beside the running fault: it comes after instead.
                at = nextFree
                fault = pick(kind: kinds[i], rng: &rng, pods: pods, avoid: [], at: at, length: length)
            }
            guard let fault else { continue }
            overlapped = at < nextFree
            faults.append(fault)
            nextFree = max(nextFree, fault.endNs / second + Int64(rng.int(20...35)))
        }
        let end = (faults.map(\.endNs).max() ?? 60 * second) / second + 15
        let scenario = Scenario(durationNs: end * second, faults: faults, loadConnections: connections)
        return (scenario, yaml(scenario, seed: seed))
    }

    private static let second: Int64 = 1_000_000_000

    private static func involved(_ fault: Fault) -> Set<String> {
        var pods: Set = [fault.pod]
        if let peer = fault.kind.peer { pods.insert(peer.name) }
        return pods
    }

    private static func pick(kind: String, rng: inout SplitMix64, pods: [SockShop.Component], avoid: Set<String>,
                             at: Int64, length: Int64) -> Fault? {
        func fault(_ pod: String, _ kind: FaultKind) -> Fault {
            Fault(atNs: at * second, lengthNs: length * second, pod: pod, kind: kind)
        }
        if kind == "partition" {
            // A call edge of the application: the callee is the pod, its caller the peer.
            let edges = pods.flatMap { caller in caller.calls.map { (callee: $0, caller: caller.name) } }
                .filter { !avoid.contains($0.callee) && !avoid.contains($0.caller) }
            guard !edges.isEmpty else { return nil }
            let edge = rng.pick(edges)
            return fault(edge.callee, .partition(peer: edge.caller, peerNamespace: SockShop.appNamespace))
        }
        let made: FaultKind
        switch kind {
        case "loss": made = .loss(percent: Double(rng.int(lossPercent)))
        case "delay": made = .delay(ms: rng.int(delayMs) / 10 * 10)
        case "reset": made = .reset(percent: Double(rng.int(resetPercent)))
        case "dns": made = .dns
        case "kill": made = .kill
        case "cpu": made = .cpu(percent: Double(rng.int(cpuPercent)))
        default: made = .bandwidth(kbit: rng.int(bandwidthKbit) / 4 * 4)
        }
        let candidates = pods.filter { !avoid.contains($0.name) && SockShop.refusal(of: made, on: $0) == nil }
        guard !candidates.isEmpty else { return nil }
        return fault(rng.pick(candidates).name, made)
    }

    /// The scenario file of a random scenario (parses back to the same scenario).
    public static func yaml(_ scenario: Scenario, seed: UInt64) -> String {
        var lines = ["# Generated by `netobs demo --random-scenario \(seed)`; the same seed gives the same scenario.",
                     "description: random scenario, seed \(seed)",
                     "duration: \(DurationText.format(scenario.durationNs))"]
        if let connections = scenario.loadConnections { lines.append("load_connections: \(connections)") }
        lines.append("faults:")
        for f in scenario.faults {
            var fields = ["at: \(DurationText.format(f.atNs))", "for: \(DurationText.format(f.lengthNs))", "pod: \(f.pod)"]
            if f.namespace != SockShop.appNamespace { fields.append("namespace: \(f.namespace)") }
            fields.append("kind: \(f.kind.name)")
            switch f.kind {
            case .loss(let p), .reset(let p), .cpu(let p): fields.append("percent: \(p.compact)")
            case .delay(let ms): fields.append("ms: \(ms)")
            case .bandwidth(let kbit): fields.append("kbit: \(kbit)")
            case .partition(let peer, let namespace):
                fields.append("peer: " + (namespace == f.namespace ? peer : namespace + "/" + peer))
            case .dns, .kill: break
            }
            lines.append("  - {" + fields.joined(separator: ", ") + "}")
        }
        return lines.joined(separator: "\n") + "\n"
    }
}

/// SplitMix64: small, fast and the same everywhere (Swift's own generator is not seedable).
public struct SplitMix64: Sendable {
    private var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in the range (inclusive).
    public mutating func int(_ range: ClosedRange<Int>) -> Int {
        range.lowerBound + Int(next() % UInt64(range.count))
    }

    public mutating func chance(_ p: Double) -> Bool { Double(next() >> 11) / Double(1 << 53) < p }

    public mutating func pick<T>(_ items: [T]) -> T { items[Int(next() % UInt64(items.count))] }

    public mutating func shuffled<T>(_ items: [T]) -> [T] {
        var a = items
        for i in stride(from: a.count - 1, to: 0, by: -1) { a.swapAt(i, Int(next() % UInt64(i + 1))) }
        return a
    }
}
