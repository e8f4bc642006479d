/// Pods chosen by Kubernetes identity in a rules file (`"pods"`): a pod matches when every
/// selector given matches: its namespace is listed, its `NS/NAME` is listed, it carries every
/// label. Only the controller can apply it (it knows the pods); it resolves the selector into
/// each node's pod UIDs (`CollectionRules.podUIDs`), which the agent turns into cgroup ids.
public struct PodSelector: Equatable, Sendable {
    public var mode: CollectionRules.Mode
    public var namespaces: Set<String>
    /// `NS/NAME`.
    public var names: Set<String>
    public var labels: [String: String]

    public init(mode: CollectionRules.Mode, namespaces: Set<String> = [], names: Set<String> = [], labels: [String: String] = [:]) {
        self.mode = mode
        self.namespaces = namespaces
        self.names = names
        self.labels = labels
    }

    public var isEmpty: Bool { namespaces.isEmpty && names.isEmpty && labels.isEmpty }

    public func matches(namespace: String, name: String, labels podLabels: [String: String]) -> Bool {
        (namespaces.isEmpty || namespaces.contains(namespace))
            && (names.isEmpty || names.contains(namespace + "/" + name))
            && labels.allSatisfy { podLabels[$0.key] == $0.value }
    }

    var summary: String {
        var parts: [String] = []
        if !namespaces.isEmpty { parts.append("namespaces " + namespaces.sorted().joined(separator: ",")) }
        if !names.isEmpty { parts.append(names.sorted().joined(separator: ",")) }
        if !labels.isEmpty { parts.append("labels " + labels.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",")) }
        return "pods \(mode.rawValue) " + parts.joined(separator: " ")
    }

    /// From the rules file: `{"mode": ..., "namespaces": [...], "names": ["NS/NAME"], "labels": {...}}`.
    static func parse(_ value: Any) throws(CollectionRules.Invalid) -> PodSelector {
        typealias Invalid = CollectionRules.Invalid
        let shape = "pods: must be {\"mode\": \"include\"|\"exclude\", \"namespaces\": [...], \"names\": [\"NS/NAME\"], \"labels\": {\"KEY\": \"VALUE\"}}"
        guard let object = value as? [String: Any], let modeName = object["mode"] as? String,
              let mode = CollectionRules.Mode(rawValue: modeName) else { throw Invalid(shape) }
        if let unknown = object.keys.sorted().first(where: { !["mode", "namespaces", "names", "labels"].contains($0) }) {
            throw Invalid("pods: unknown key \"\(unknown)\" (mode, namespaces, names, labels)")
        }
        var selector = PodSelector(mode: mode)
        if let list = object["namespaces"] {
            guard let names = list as? [String], names.allSatisfy(Self.isDNSLabel) else {
                throw Invalid("pods: namespaces must be a list of namespace names (lowercase DNS labels)")
            }
            selector.namespaces = Set(names)
        }
        if let list = object["names"] {
            guard let names = list as? [String] else { throw Invalid("pods: names must be a list of \"NS/NAME\"") }
            for name in names {
                let parts = name.split(separator: "/", omittingEmptySubsequences: false)
                guard parts.count == 2, Self.isDNSLabel(String(parts[0])), !parts[1].isEmpty, name.utf8.count <= 253 else {
                    throw Invalid("pods: \"\(name)\" is not NS/NAME")
                }
            }
            selector.names = Set(names)
        }
        if let map = object["labels"] {
            guard let labels = map as? [String: String], labels.keys.allSatisfy({ !$0.isEmpty && $0.utf8.count <= 64 }),
                  labels.values.allSatisfy({ $0.utf8.count <= 63 }) else {
                throw Invalid("pods: labels must map label names to values (strings)")
            }
            selector.labels = labels
        }
        guard !selector.isEmpty else { throw Invalid("pods: give namespaces, names or labels (an empty selector would select every pod)") }
        return selector
    }

    private static func isDNSLabel(_ s: String) -> Bool {
        !s.isEmpty && s.utf8.count <= 63 && s.utf8.allSatisfy { ($0 >= 0x61 && $0 <= 0x7a) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2d }
    }
}
