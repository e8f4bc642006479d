/// Checks a parsed scenario against the demo cluster: known pods, faults that make sense on
/// them, every fault inside the run, no two faults on one pod at once (their effects and
/// labels would be inseparable).
public enum ScenarioValidator {
    /// Longest run accepted (a day): a typo like `duration: 240m` should not run for hours unnoticed.
    public static let maxDurationNs: Int64 = 86_400 * 1_000_000_000

    public static func validate(_ scenario: Scenario, source: String = "<text>") throws {
        let problems = self.problems(in: scenario)
        if !problems.isEmpty { throw ScenarioError(source: source, problems: problems) }
    }

    public static func problems(in scenario: Scenario) -> [String] {
        var problems: [String] = []
        if scenario.durationNs <= 0 { problems.append("`duration` must be above 0") }
        if scenario.durationNs > maxDurationNs {
            problems.append("`duration` \(DurationText.format(scenario.durationNs)) is longer than 24h")
        }
        for fault in scenario.faults {
            let here = fault.line > 0 ? "line \(fault.line): " : ""
            if fault.lengthNs <= 0 { problems.append(here + "`for` must be above 0") }
            if fault.endNs > scenario.durationNs {
                problems.append(here + "the fault ends at \(DurationText.format(fault.endNs)) (at + for), after the run's "
                    + "duration \(DurationText.format(scenario.durationNs))")
            }
            guard let component = SockShop.component(fault.pod, namespace: fault.namespace) else {
                let known = SockShop.components.filter { $0.role != .loadGenerator }
                    .map { $0.namespace == SockShop.appNamespace ? $0.name : "\($0.name) (namespace \($0.namespace))" }
                problems.append(here + "unknown pod \(fault.namespace)/\(fault.pod); the demo's pods: \(known.joined(separator: ", "))")
                continue
            }
            if let refusal = SockShop.refusal(of: fault.kind, on: component) {
                problems.append(here + "\(fault.kind.name) on \(fault.pod): \(refusal)")
            }
        }
        // A partition involves its peer too.
        var byPod: [String: [Fault]] = [:]
        for fault in scenario.faults {
            byPod["\(fault.namespace)/\(fault.pod)", default: []].append(fault)
            if let peer = fault.kind.peer, peer.namespace != fault.namespace || peer.name != fault.pod {
                byPod["\(peer.namespace)/\(peer.name)", default: []].append(fault)
            }
        }
        for (pod, faults) in byPod.sorted(by: { $0.key < $1.key }) {
            let ordered = faults.sorted { $0.atNs < $1.atNs }
            for (first, second) in zip(ordered, ordered.dropFirst()) where second.atNs < first.endNs {
                problems.append("faults on \(pod) overlap: \(describe(first)) and \(describe(second)); "
                    + "one pod takes one fault at a time")
            }
        }
        return problems
    }

    private static func describe(_ fault: Fault) -> String {
        (fault.line > 0 ? "line \(fault.line) " : "")
            + "(\(fault.kind.name) \(DurationText.format(fault.atNs))-\(DurationText.format(fault.endNs)))"
    }
}
