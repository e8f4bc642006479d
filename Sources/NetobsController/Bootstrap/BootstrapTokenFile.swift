import NetobsTLS

/// The text of a `--bootstrap-token-file`: one token per line (`BootstrapToken`), `#` starts a
/// comment, blank lines are ignored. Errors name the line and never contain a secret.
public enum BootstrapTokenFile {
    public struct Parsed: Sendable {
        public var tokens: [BootstrapToken] = []
        /// "line N: why", one per refused line.
        public var errors: [String] = []
    }

    /// Every line that parses, and why each other line does not. A token id given twice is an
    /// error on the second line (the first stays).
    public static func parse(_ text: String) -> Parsed {
        var parsed = Parsed()
        var ids: Set<String> = []
        for (index, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let content = raw.prefix { $0 != "#" }
            let fields = content.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\r" }).map(String.init)
            guard !fields.isEmpty else { continue }
            switch parseLine(fields) {
            case .success(let token):
                if ids.insert(token.id).inserted {
                    parsed.tokens.append(token)
                } else {
                    parsed.errors.append("line \(index + 1): token \(token.id) is already on an earlier line")
                }
            case .failure(let error):
                parsed.errors.append("line \(index + 1): \(error.reason)")
            }
        }
        return parsed
    }

    /// A line for `token` as `netobs certs token create` prints it.
    public static func line(token: String, scope: BootstrapToken.Scope, expires: Int64?, comment: String?) -> String {
        var line = "\(token) \(scope)"
        if let expires { line += " expires=\(RFC3339.format(expires))" }
        if let comment, !comment.isEmpty { line += "  # " + comment.filter { $0 != "\n" && $0 != "\r" } }
        return line
    }

    struct LineError: Error { let reason: String }

    private static func parseLine(_ fields: [String]) -> Result<BootstrapToken, LineError> {
        guard let (id, secret) = BootstrapToken.split(fields[0]) else {
            return .failure(LineError(reason: "the first field is not a token ID.SECRET (6 and 16 characters of a-z, 0-9)"))
        }
        var scope: BootstrapToken.Scope?
        var expires: Int64?
        for field in fields.dropFirst() {
            if field.hasPrefix("node="), scope == nil {
                let value = String(field.dropFirst("node=".count))
                if value == "*" {
                    scope = .anyNode
                } else if value.hasSuffix("*") {
                    let prefix = String(value.dropLast())
                    guard !prefix.isEmpty, !prefix.contains("*") else { return .failure(LineError(reason: "bad scope \(field)")) }
                    scope = .prefix(prefix)
                } else {
                    if let problem = NodeName.problem(value) { return .failure(LineError(reason: "\(field): \(problem)")) }
                    scope = .node(value)
                }
            } else if field.hasPrefix("expires="), expires == nil {
                guard let time = RFC3339.parse(String(field.dropFirst("expires=".count))) else {
                    return .failure(LineError(reason: "\(field): expected expires=YYYY-MM-DDTHH:MM:SSZ"))
                }
                expires = time
            } else {
                return .failure(LineError(reason: "unexpected field \"\(field.prefix(64))\" (expected node=... and optionally expires=...)"))
            }
        }
        guard let scope else {
            return .failure(LineError(reason: "token \(id) has no scope: add node=NAME, node=PREFIX* or node=*"))
        }
        return .success(BootstrapToken(id: id, secret: secret, scope: scope, expires: expires))
    }
}
