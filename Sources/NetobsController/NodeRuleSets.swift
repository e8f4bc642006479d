import NetobsRecords
import NetobsTopology
import NetobsWire

/// The rule set each agent gets: the one in force, with its pod selector (namespaces, names,
/// labels) replaced by the UIDs of the pods on that agent's node it selects. Agents select by
/// cgroup, and only the node knows its pods' cgroups; only the controller knows which pods a
/// selector means. Sets without a pod selector go out as they are.
public enum NodeRuleSets {
    /// `set` resolved for `node` against `pods` (the live ones).
    public static func resolve(_ set: RuleSet, node: String, pods: some Sequence<TopologyPod>) -> RuleSet {
        guard set.rules.contains(where: \.selectsPods), let rules = try? CollectionRules(set), let selector = rules.pods else {
            return set
        }
        let uids = pods.filter { $0.node == node && selector.matches(namespace: $0.namespace, name: $0.name, labels: $0.labels) }
            .map(\.uid)
        guard var resolved = try? rules.resolved(podUIDs: Set(uids)).ruleSet(version: set.version) else { return set }
        resolved.options = set.options
        return resolved
    }
}
