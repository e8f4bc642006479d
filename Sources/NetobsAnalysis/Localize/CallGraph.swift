/// Who calls whom, from the observed (client, server) pairs: symptoms travel from a callee up to
/// its callers, so a caller's alarms may be its callee's fault, not the other way round.
struct CallGraph {
    private var callees: [String: Set<String>] = [:]
    private var callers: [String: Set<String>] = [:]

    init(_ calls: some Sequence<CallEdge>) {
        for call in calls where call.client != call.server {
            callees[call.client, default: []].insert(call.server)
            callers[call.server, default: []].insert(call.client)
        }
    }

    /// Pods on a call with `pod`, either way.
    func neighbours(_ pod: String) -> Set<String> {
        (callees[pod] ?? []).union(callers[pod] ?? [])
    }

    func adjacent(_ pod: String, _ others: Set<String>) -> Bool {
        !neighbours(pod).isDisjoint(with: others)
    }

    /// Pods `pod` calls, directly or through others.
    func descendants(_ pod: String) -> Set<String> {
        var seen = Set<String>(), queue = [pod]
        while let next = queue.popLast() {
            for callee in callees[next] ?? [] where !seen.contains(callee) && callee != pod {
                seen.insert(callee)
                queue.append(callee)
            }
        }
        return seen
    }

    /// `pod` calls one of `others`, directly or through others.
    func isAncestor(_ pod: String, ofAny others: Set<String>) -> Bool {
        !descendants(pod).isDisjoint(with: others)
    }
}
