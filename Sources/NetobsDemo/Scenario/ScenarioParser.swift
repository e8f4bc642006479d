import Foundation
import Yams

/// Reads a scenario file (DESIGN.md's contract):
///
///     duration: 240s
///     faults:
///       - {at: 90s, for: 60s, pod: carts, kind: loss, percent: 30}
///       - {at: 170s, for: 50s, pod: front-end, kind: delay, ms: 150}
///
/// Keys per fault: at, for, pod, kind, optional namespace (default sock-shop), and the kind's
/// own: `percent` (loss, cpu: required; reset: optional, default 100), `ms` (delay), `peer`
/// (partition: a pod name, or `namespace/name`), `kbit` (bandwidth). Top level: `duration`,
/// `faults`, optional `description` and `load_connections`. Unknown or misplaced keys are
/// errors, so a typo never silently becomes a default.
/// This checks the file's form; `ScenarioValidator` checks it against the demo cluster.
public enum ScenarioParser {
    public static func parse(yaml text: String, source: String = "<text>") throws -> Scenario {
        var problems: [String] = []
        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch {
            throw ScenarioError(source: source, problems: ["not valid YAML: \(error)"])
        }
        guard let root, let top = root.mapping else {
            throw ScenarioError(source: source, problems: ["expected a mapping with `duration` and `faults`"])
        }
        let fields = Fields(top, at: root.mark, allowed: ["duration", "faults", "description", "load_connections"],
                            problems: &problems)
        let duration = fields.duration("duration", required: true, problems: &problems)
        let connections = fields.integer("load_connections", in: 1...256, problems: &problems)
        var faults: [Fault] = []
        if let list = fields.node("faults"), list.null == nil {
            if let sequence = list.sequence {
                for item in sequence {
                    if let fault = parseFault(item, problems: &problems) { faults.append(fault) }
                }
            } else {
                problems.append(where_(list.mark) + "`faults` must be a list")
            }
        }
        guard problems.isEmpty, let duration else { throw ScenarioError(source: source, problems: problems) }
        return Scenario(durationNs: duration, faults: faults, loadConnections: connections)
    }

    public static func load(path: String) throws -> Scenario {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw ScenarioError(source: path, problems: ["cannot read the file: \((error as NSError).localizedDescription)"])
        }
        return try parse(yaml: text, source: path)
    }

    private static func parseFault(_ node: Node, problems: inout [String]) -> Fault? {
        guard let mapping = node.mapping else {
            problems.append(where_(node.mark) + "a fault must be a mapping like {at: 90s, for: 60s, pod: carts, kind: loss, percent: 30}")
            return nil
        }
        let before = problems.count
        let common: Set = ["at", "for", "pod", "namespace", "kind"]
        let kindName = mapping["kind"]?.string
        let own: Set<String>
        switch kindName {
        case "loss", "reset", "cpu": own = ["percent"]
        case "delay": own = ["ms"]
        case "partition": own = ["peer"]
        case "bandwidth": own = ["kbit"]
        default: own = []
        }
        let fields = Fields(mapping, at: node.mark, allowed: common.union(own), problems: &problems,
                            context: kindName.map { "for kind \($0)" })
        let at = fields.duration("at", required: true, problems: &problems)
        let length = fields.duration("for", required: true, problems: &problems)
        let pod = fields.string("pod", required: true, problems: &problems)
        let namespace = fields.string("namespace", required: false, problems: &problems) ?? SockShop.appNamespace
        var kind: FaultKind?
        switch kindName {
        case "loss":
            kind = fields.percent(required: true, problems: &problems).map { .loss(percent: $0) }
        case "reset":
            kind = .reset(percent: fields.percent(required: false, problems: &problems) ?? 100)
        case "delay":
            kind = fields.milliseconds(problems: &problems).map { .delay(ms: $0) }
        case "dns":
            kind = .dns
        case "kill":
            kind = .kill
        case "cpu":
            kind = fields.percent(required: true, problems: &problems).map { .cpu(percent: $0) }
        case "partition":
            if let peer = fields.string("peer", required: true, problems: &problems) {
                let parts = peer.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
                if parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty {
                    kind = .partition(peer: parts[1], peerNamespace: parts[0])
                } else if parts.count == 1 {
                    kind = .partition(peer: peer, peerNamespace: namespace)
                } else {
                    problems.append(where_(mapping["peer"]?.mark) + "`peer` must be a pod name or namespace/name")
                }
            }
        case "bandwidth":
            kind = fields.integer("kbit", in: 8...10_000_000, required: true, problems: &problems).map { .bandwidth(kbit: $0) }
        case nil:
            problems.append(where_(node.mark) + "missing `kind` (one of \(FaultKind.names.joined(separator: ", ")))")
        case let other?:
            problems.append(where_(mapping["kind"]?.mark) + "unknown kind '\(other)' (one of \(FaultKind.names.joined(separator: ", ")))")
        }
        guard problems.count == before, let at, let length, let pod, let kind else { return nil }
        return Fault(atNs: at, lengthNs: length, pod: pod, namespace: namespace, kind: kind, line: node.mark?.line ?? 0)
    }

    static func where_(_ mark: Mark?) -> String {
        mark.map { "line \($0.line): " } ?? ""
    }
}

/// A mapping's keys, checked for unknowns, with typed getters.
private struct Fields {
    let mapping: Node.Mapping
    let mark: Mark?

    init(_ mapping: Node.Mapping, at mark: Mark?, allowed: Set<String>, problems: inout [String], context: String? = nil) {
        self.mapping = mapping
        self.mark = mark
        // (Yams already refuses duplicate keys.)
        for (key, _) in mapping {
            let name = key.string ?? "?"
            if !allowed.contains(name) {
                let suffix = context.map { " \($0)" } ?? ""
                problems.append(ScenarioParser.where_(key.mark) + "unknown key `\(name)`\(suffix) (expected: \(allowed.sorted().joined(separator: ", ")))")
            }
        }
    }

    func node(_ key: String) -> Node? { mapping[key] }

    private func missing(_ key: String, _ problems: inout [String]) {
        problems.append(ScenarioParser.where_(mark) + "missing `\(key)`")
    }

    func string(_ key: String, required: Bool, problems: inout [String]) -> String? {
        guard let node = mapping[key] else {
            if required { missing(key, &problems) }
            return nil
        }
        guard let value = node.scalar?.string, !value.isEmpty else {
            problems.append(ScenarioParser.where_(node.mark) + "`\(key)` must be a name")
            return nil
        }
        return value
    }

    func duration(_ key: String, required: Bool, problems: inout [String]) -> Int64? {
        guard let node = mapping[key] else {
            if required { missing(key, &problems) }
            return nil
        }
        guard let text = node.scalar?.string, let ns = DurationText.parse(text) else {
            problems.append(ScenarioParser.where_(node.mark) + "`\(key)` must be a duration like 90s, 2m or 1m30s")
            return nil
        }
        return ns
    }

    func percent(required: Bool, problems: inout [String]) -> Double? {
        guard let node = mapping["percent"] else {
            if required { missing("percent", &problems) }
            return nil
        }
        guard let text = node.scalar?.string, let value = Double(text.hasSuffix("%") ? String(text.dropLast()) : text),
              value > 0, value <= 100 else {
            problems.append(ScenarioParser.where_(node.mark) + "`percent` must be a number above 0 and at most 100")
            return nil
        }
        return value
    }

    /// A whole number in `range`.
    func integer(_ key: String, in range: ClosedRange<Int>, required: Bool = false, problems: inout [String]) -> Int? {
        guard let node = mapping[key] else {
            if required { missing(key, &problems) }
            return nil
        }
        guard let value = node.int, range.contains(value) else {
            problems.append(ScenarioParser.where_(node.mark) + "`\(key)` must be a whole number, \(range.lowerBound) to \(range.upperBound)")
            return nil
        }
        return value
    }

    func milliseconds(problems: inout [String]) -> Int? {
        guard let node = mapping["ms"] else {
            missing("ms", &problems)
            return nil
        }
        guard let value = node.int, (1...60_000).contains(value) else {
            problems.append(ScenarioParser.where_(node.mark) + "`ms` must be a whole number of milliseconds, 1 to 60000")
            return nil
        }
        return value
    }
}
