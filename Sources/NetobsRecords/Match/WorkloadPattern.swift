/// `--from-workload`/`--to-workload`: records name workloads `kind/name` ("deployment/carts", from
/// the pod's controller) beside the pod's namespace. A pattern is `name` (any kind), `kind/name`,
/// `ns/name` (when `ns` is not a workload kind) or `ns/kind/name`.
struct WorkloadPattern: Sendable, Equatable {
    static let kinds: Set<String> = ["deployment", "replicaset", "statefulset", "daemonset", "job", "cronjob",
                                     "replicationcontroller", "pod"]

    var namespace: String?
    var kind: String?
    var name: String

    init?(_ text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard !parts.contains(where: \.isEmpty) else { return nil }
        switch parts.count {
        case 1: name = parts[0]
        case 2 where Self.kinds.contains(parts[0].lowercased()):
            kind = parts[0].lowercased()
            name = parts[1]
        case 2:
            namespace = parts[0]
            name = parts[1]
        case 3:
            namespace = parts[0]
            kind = parts[1].lowercased()
            name = parts[2]
        default: return nil
        }
    }

    func matches(namespace ns: String, workload: String) -> Bool {
        guard !workload.isEmpty, namespace.map({ $0 == ns }) ?? true else { return false }
        guard let slash = workload.firstIndex(of: "/") else { return kind == nil && workload == name }
        if let kind, workload[..<slash].lowercased() != kind { return false }
        return workload[workload.index(after: slash)...] == name
    }
}
