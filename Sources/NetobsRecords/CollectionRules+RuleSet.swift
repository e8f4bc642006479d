import NetobsWire

/// `CollectionRules` (the agent's rules file) as a wire `RuleSet`, and back.
///
/// The file's filters combine with AND and each has one mode; a RuleSet is a union of include
/// rules minus a union of exclude rules (PROTOCOL.md §6.5). So the include filters become the
/// include rules (every combination of port chunk × cgroup chunk, each chunk within the per-rule
/// limits, so their union is exactly "port included AND cgroup included"), and each exclude filter
/// becomes exclude rules of its own. A pod selector rides in the include rules' namespace, pod and
/// label selectors (or an exclude rule's); resolved for a node, as pod UIDs chunked like cgroup
/// ids. Going back, a RuleSet is accepted only when it is exactly the encoding of the rules it
/// decodes to: anything else (mixed samplings, say) cannot be applied through the kernel's filter
/// maps and is refused with the reason.
extension CollectionRules {
    public func ruleSet(version: UInt64) throws(Invalid) -> RuleSet {
        if let ports, ports.mode == .include, ports.values.isEmpty {
            throw Invalid("ports: include with no values would collect nothing; use \"protocols\": [] for that")
        }
        if let cgroups, cgroups.mode == .include, cgroups.values.isEmpty {
            throw Invalid("cgroups: include with no values would collect nothing; use \"protocols\": [] for that")
        }
        if cgroups != nil && (pods != nil || podUIDs != nil) || pods != nil && podUIDs != nil {
            throw Invalid("cgroups and pods both select pods: use one of them")
        }
        guard sampleEvery <= Limits.samplingPpmMax else {
            throw Invalid("sample_every: at most \(Limits.samplingPpmMax) in a pushed rule set")
        }
        var protocols: ProtocolSet = []
        if tcp { protocols.insert(.tcp) }
        if udp { protocols.insert(.udp) }
        var sampling = [KeyValue(key: Self.sampleEveryKey, text: String(sampleEvery))]
        // The exemplar settings ride in the rule's options (unknown keys are ignored by older
        // agents), only when they differ from the defaults: existing encodings stay the same.
        if l7SampleEvery != Self.defaultL7SampleEvery {
            sampling.append(KeyValue(key: Self.l7SampleEveryKey, text: String(l7SampleEvery)))
        }
        if l7SlowMs != Self.defaultL7SlowMs { sampling.append(KeyValue(key: Self.l7SlowMsKey, text: String(l7SlowMs))) }
        if !tls { sampling.append(KeyValue(key: Self.tlsKey, text: "off")) }
        if let tlsBinaries {
            sampling.append(KeyValue(key: Self.tlsBinariesKey,
                                     text: tlsBinaries.mode.rawValue + ":" + tlsBinaries.values.sorted().joined(separator: ",")))
        }
        let includePorts = ports?.mode == .include ? Self.chunks(Self.ranges(ports!.values), Limits.portRangesPerRule) : [[]]
        let includeCgroups = cgroups?.mode == .include ? Self.chunks(cgroups!.values.sorted(), Limits.cgroupsPerRule) : [[]]
        // Resolved pods: one rule per chunk, and one with an empty list when none is selected.
        var includeUIDs: [[String]?] = [nil]
        if let podUIDs, podUIDs.mode == .include {
            let chunks = Self.chunks(podUIDs.values.sorted(), Limits.podsPerRule)
            includeUIDs = chunks.isEmpty ? [[]] : chunks
        }
        let selector = pods?.mode == .include ? pods : nil
        var rules: [Rule] = []
        for p in includePorts {
            for c in includeCgroups {
                for u in includeUIDs {
                    var rule = Rule(id: "include-\(rules.count + 1)", cgroupIds: c, ports: p, protocols: protocols,
                                    samplingPpm: Limits.samplingPpmMax / sampleEvery, l7: l7, options: sampling, podUIDs: u)
                    if let selector { Self.select(selector, in: &rule) }
                    rules.append(rule)
                }
            }
        }
        if let ports, ports.mode == .exclude {
            for (i, p) in Self.chunks(Self.ranges(ports.values), Limits.portRangesPerRule).enumerated() {
                rules.append(Rule(id: "exclude-ports-\(i + 1)", ports: p, exclude: true))
            }
        }
        if let cgroups, cgroups.mode == .exclude {
            for (i, c) in Self.chunks(cgroups.values.sorted(), Limits.cgroupsPerRule).enumerated() {
                rules.append(Rule(id: "exclude-cgroups-\(i + 1)", cgroupIds: c, exclude: true))
            }
        }
        if let pods, pods.mode == .exclude {
            var rule = Rule(id: "exclude-pods", exclude: true)
            Self.select(pods, in: &rule)
            rules.append(rule)
        }
        if let podUIDs, podUIDs.mode == .exclude {
            let chunks = Self.chunks(podUIDs.values.sorted(), Limits.podsPerRule)
            for (i, u) in (chunks.isEmpty ? [[]] : chunks).enumerated() {
                rules.append(Rule(id: "exclude-pods-\(i + 1)", exclude: true, podUIDs: u))
            }
        }
        guard rules.count <= Limits.rules else { throw Invalid("needs \(rules.count) wire rules, at most \(Limits.rules)") }
        return RuleSet(version: version, rules: rules)
    }

    /// The rules a RuleSet stands for, or why it cannot be applied.
    public init(_ set: RuleSet) throws(Invalid) {
        self.init()
        let include = set.rules.filter { !$0.exclude }
        guard let first = include.first else {
            throw Invalid("no include rule: nothing would be collected (send one with no protocols for that)")
        }
        tcp = first.protocols.contains(.tcp)
        udp = first.protocols.contains(.udp)
        l7 = first.l7
        if let text = first.options.first(where: { $0.key == Self.sampleEveryKey }).map({ String(decoding: $0.value, as: UTF8.self) }),
           let n = UInt32(text), n >= 1 {
            sampleEvery = n
        } else {
            guard first.samplingPpm > 0 else { throw Invalid("rule \(first.id): sampling_ppm 0 records nothing") }
            sampleEvery = UInt32((Double(Limits.samplingPpmMax) / Double(first.samplingPpm)).rounded())
        }
        if let n = Self.option(first, Self.l7SampleEveryKey) { l7SampleEvery = n }
        if let n = Self.option(first, Self.l7SlowMsKey) { l7SlowMs = n }
        tls = first.options.first { $0.key == Self.tlsKey }.map { String(decoding: $0.value, as: UTF8.self) } != "off"
        if let text = first.options.first(where: { $0.key == Self.tlsBinariesKey }).map({ String(decoding: $0.value, as: UTF8.self) }) {
            let parts = text.split(separator: ":", maxSplits: 1)
            guard parts.count == 2, let mode = Mode(rawValue: String(parts[0])) else {
                throw Invalid("option tls_binaries: \"\(text)\" is not include:NAMES or exclude:NAMES")
            }
            tlsBinaries = Filter(mode: mode, values: Set(parts[1].split(separator: ",").map(String.init)))
        }
        let includedPorts = Set(include.flatMap { Self.expand($0.ports) })
        let includedCgroups = Set(include.flatMap(\.cgroupIds))
        if !includedPorts.isEmpty { ports = Filter(mode: .include, values: includedPorts) }
        if !includedCgroups.isEmpty { cgroups = Filter(mode: .include, values: includedCgroups) }
        if let selecting = include.first(where: { $0.selectsPods }) { pods = Self.selector(selecting, mode: .include) }
        if include.contains(where: { $0.podUIDs != nil }) {
            podUIDs = Filter(mode: .include, values: Set(include.flatMap { $0.podUIDs ?? [] }))
        }
        let exclude = set.rules.filter(\.exclude)
        if let selecting = exclude.first(where: { $0.selectsPods }) { pods = Self.selector(selecting, mode: .exclude) }
        if exclude.contains(where: { $0.podUIDs != nil }) {
            guard podUIDs == nil else { throw Invalid("pods both included and excluded: agents keep one pod mode") }
            podUIDs = Filter(mode: .exclude, values: Set(exclude.flatMap { $0.podUIDs ?? [] }))
        }
        let excludedPorts = Set(exclude.flatMap { Self.expand($0.ports) })
        let excludedCgroups = Set(exclude.flatMap(\.cgroupIds))
        if !excludedPorts.isEmpty {
            guard ports == nil else { throw Invalid("ports both included and excluded: agents keep one port mode") }
            ports = Filter(mode: .exclude, values: excludedPorts)
        }
        if !excludedCgroups.isEmpty {
            guard cgroups == nil else { throw Invalid("cgroups both included and excluded: agents keep one cgroup mode") }
            cgroups = Filter(mode: .exclude, values: excludedCgroups)
        }
        if let ports, ports.values.count > Self.maxPorts { throw Invalid("\(ports.values.count) ports, at most \(Self.maxPorts)") }
        if let cgroups, cgroups.values.count > Self.maxCgroups { throw Invalid("\(cgroups.values.count) cgroups, at most \(Self.maxCgroups)") }
        let canonical = try ruleSet(version: set.version)
        guard Self.normalized(canonical.rules) == Self.normalized(set.rules) else {
            throw Invalid("the rules cannot be applied exactly through the agents' filters (one port mode, one cgroup or "
                + "pod mode, one protocol/sampling/l7 setting, exclude rules selecting ports, cgroups or pods only)")
        }
    }

    static let sampleEveryKey = "sample_every"
    static let l7SampleEveryKey = "l7_sample_every"
    static let l7SlowMsKey = "l7_slow_ms"
    static let tlsKey = "tls"
    static let tlsBinariesKey = "tls_binaries"

    /// A whole-number option of `rule`, nil when absent or not a number.
    private static func option(_ rule: Rule, _ key: String) -> UInt32? {
        rule.options.first { $0.key == key }.flatMap { UInt32(String(decoding: $0.value, as: UTF8.self)) }
    }

    /// Sorted ports as inclusive ranges of consecutive values.
    static func ranges(_ ports: Set<UInt16>) -> [PortRange] {
        var out: [PortRange] = []
        for p in ports.sorted() {
            if let last = out.last, last.last &+ 1 == p, last.last < p { out[out.count - 1].last = p } else { out.append(PortRange(port: p)) }
        }
        return out
    }

    static func expand(_ ranges: [PortRange]) -> [UInt16] { ranges.flatMap { Array($0.first...$0.last) } }

    static func chunks<T>(_ items: [T], _ size: Int) -> [[T]] {
        stride(from: 0, to: items.count, by: size).map { Array(items[$0..<min($0 + size, items.count)]) }
    }

    private static func select(_ selector: PodSelector, in rule: inout Rule) {
        rule.namespaces = selector.namespaces.sorted()
        rule.pods = selector.names.sorted()
        rule.labels = selector.labels.sorted { $0.key < $1.key }.map { KeyValue(key: $0.key, text: $0.value) }
    }

    private static func selector(_ rule: Rule, mode: Mode) -> PodSelector {
        PodSelector(mode: mode, namespaces: Set(rule.namespaces), names: Set(rule.pods),
                    labels: Dictionary(rule.labels.map { ($0.key, String(decoding: $0.value, as: UTF8.self)) }) { a, _ in a })
    }

    /// What a rule selects and does, without its id or the order of its lists.
    private struct Shape: Hashable {
        var exclude: Bool
        var ports: Set<UInt16>
        var cgroups: Set<UInt64>
        var namespaces: Set<String>
        var pods: Set<String>
        var labels: Set<String>
        var podUIDs: Set<String>?
        var protocols: UInt8
        var samplingPpm: UInt32
        var l7: Bool
    }

    private static func normalized(_ rules: [Rule]) -> Set<Shape> {
        Set(rules.map { r in
            var shape = Shape(exclude: r.exclude, ports: Set(expand(r.ports)), cgroups: Set(r.cgroupIds),
                              namespaces: Set(r.namespaces), pods: Set(r.pods),
                              labels: Set(r.labels.map { $0.key + "=" + String(decoding: $0.value, as: UTF8.self) }),
                              podUIDs: r.podUIDs.map(Set.init), protocols: 0, samplingPpm: 0, l7: false)
            if !r.exclude {
                shape.protocols = r.protocols.rawValue & (ProtocolSet.tcp.rawValue | ProtocolSet.udp.rawValue)
                (shape.samplingPpm, shape.l7) = (r.samplingPpm, r.l7)
            }
            return shape
        })
    }
}
