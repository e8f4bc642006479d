/// Everything wrong with a scenario, each problem with its line when known.
public struct ScenarioError: Error, Sendable, Equatable, CustomStringConvertible {
    public let source: String
    public let problems: [String]

    public init(source: String, problems: [String]) {
        self.source = source
        self.problems = problems
    }

    public var description: String {
        problems.count == 1
            ? "scenario \(source): \(problems[0])"
            : "scenario \(source) has \(problems.count) problems:\n" + problems.map { "  - " + $0 }.joined(separator: "\n")
    }
}
