import ArgumentParser
import NetobsRecords

/// `-o/--output` of every listing command (`tail`, `agents`, `anomalies`). `json` and `jsonl`
/// print the same thing, one JSON object per line (JSON Lines), so that a followed stream and a
/// finite list read alike and pipe into `jq`; `json` is the name hubble and kubectl users type.
enum ListingFormat: String, ExpressibleByArgument, CaseIterable, Sendable {
    case table, json, jsonl

    var isJSON: Bool { self != .table }
}

/// `--color`: `auto` colours a terminal unless NO_COLOR is set (https://no-color.org).
enum ColorChoice: String, ExpressibleByArgument, CaseIterable, Sendable {
    case auto, always, never

    func enabled(isTerminal: Bool, noColor: String?) -> Bool {
        switch self {
        case .always: true
        case .never: false
        case .auto: isTerminal && (noColor ?? "").isEmpty
        }
    }
}

extension TimeFormat: ExpressibleByArgument {}

/// Old output flags still work; each says once, on stderr, what replaces it.
enum Deprecation {
    static func warn(_ old: String, use new: String, command: String) {
        Output.write("netobs \(command): \(old) is deprecated; use \(new)\n", to: 2)
    }
}
