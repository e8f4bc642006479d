import NetobsWire

/// The PROGRAM cell and the `program_versions` JSON of `netobs agents`: the version of each
/// kernel object an agent runs, `embedded` (JSON "") for an object it runs from its own build.
///
///     l4 1.2, l7 embedded
enum ProgramSummary {
    /// Every known object, always (an operator checks an l7 rollout on the same line as l4), then
    /// any other object a newer controller reports, in its order.
    static func versions(_ a: AgentStatus) -> [(name: String, version: String)] {
        let others = a.programVersions.map(\.name).filter { !ProgramBundle.knownObjects.contains($0) }
        var seen = Set<String>()
        return (ProgramBundle.knownObjects + others).filter { seen.insert($0).inserted }
            .map { ($0, a.programVersion(of: $0)) }
    }

    static func cell(_ a: AgentStatus) -> String {
        versions(a).map { "\($0.name) \($0.version.isEmpty ? "embedded" : $0.version)" }.joined(separator: ", ")
    }

    static func json(_ a: AgentStatus) -> [String: String] {
        Dictionary(versions(a).map { ($0.name, $0.version) }, uniquingKeysWith: { $1 })
    }
}
