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
        resolve(set, nodes: [node], pods: pods)[node] ?? set
    }

    /// `set` resolved for each of `nodes`, the pods grouped by node once (a big cluster has
    /// many of both).
    public static func resolve(_ set: RuleSet, nodes: [String], pods: some Sequence<TopologyPod>) -> [String: RuleSet] {
        guard set.rules.contains(where: \.selectsPods), let rules = try? CollectionRules(set), let selector = rules.pods else {
            return Dictionary(nodes.map { ($0, set) }) { a, _ in a }
        }
        let wanted = Set(nodes)
        var selected: [String: Set<String>] = [:]
        for pod in pods where wanted.contains(pod.node) && selector.matches(namespace: pod.namespace, name: pod.name, labels: pod.labels) {
            selected[pod.node, default: []].insert(pod.uid)
        }
        var sets: [String: RuleSet] = [:]
        for node in wanted {
            guard var resolved = try? rules.resolved(podUIDs: selected[node] ?? []).ruleSet(version: set.version) else {
                sets[node] = set  // past the wire limits: the agent refuses it and says why
                continue
            }
            resolved.options = set.options
            sets[node] = resolved
        }
        return sets
    }
}
