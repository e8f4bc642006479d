/// `--http-path`: a prefix of the request path (`/api/` selects `/api/v1/x`), or, when it holds
/// `*`, `?` or `[`, a glob over the whole path: `*` and `?` stay within one segment, `**` crosses
/// segments, `[a-z]`/`[!0-9]` are character classes. The path is the URI before any `?query`.
struct PathPattern: Sendable, Equatable {
    enum Token: Sendable, Equatable {
        case literal(Character)
        case one
        case segment
        case any
        case set(ranges: [ClosedRange<Character>], negated: Bool)
    }

    let prefix: String?
    let glob: [Token]

    init?(_ text: String) {
        guard text.hasPrefix("/") || text.hasPrefix("*") else { return nil }
        guard text.contains(where: { $0 == "*" || $0 == "?" || $0 == "[" }) else {
            prefix = text
            glob = []
            return
        }
        prefix = nil
        var tokens: [Token] = []
        var chars = Array(text)[...]
        while let c = chars.popFirst() {
            switch c {
            case "*":
                if chars.first == "*" {
                    chars.removeFirst()
                    tokens.append(.any)
                } else {
                    tokens.append(.segment)
                }
            case "?": tokens.append(.one)
            case "[":
                guard let close = chars.dropFirst().firstIndex(of: "]") else { return nil }
                var body = chars[..<close]
                chars = chars[chars.index(after: close)...]
                let negated = body.first == "!" || body.first == "^"
                if negated { body.removeFirst() }
                var ranges: [ClosedRange<Character>] = []
                var items = Array(body)
                while !items.isEmpty {
                    if items.count >= 3 && items[1] == "-" {
                        guard items[0] <= items[2] else { return nil }
                        ranges.append(items[0]...items[2])
                        items.removeFirst(3)
                    } else {
                        ranges.append(items[0]...items[0])
                        items.removeFirst()
                    }
                }
                tokens.append(.set(ranges: ranges, negated: negated))
            default: tokens.append(.literal(c))
            }
        }
        glob = tokens
    }

    func matches(uri: String) -> Bool {
        let path = uri.firstIndex(of: "?").map { uri[..<$0] } ?? uri[...]
        if let prefix { return path.hasPrefix(prefix) }
        return Self.match(glob[...], Array(path)[...])
    }

    /// Backtracking match; paths are at most a few hundred characters (the agent keeps 128 bytes).
    private static func match(_ tokens: ArraySlice<Token>, _ path: ArraySlice<Character>) -> Bool {
        guard let token = tokens.first else { return path.isEmpty }
        let rest = tokens.dropFirst()
        switch token {
        case .literal(let c):
            return path.first == c && match(rest, path.dropFirst())
        case .one:
            guard let c = path.first, c != "/" else { return false }
            return match(rest, path.dropFirst())
        case .set(let ranges, let negated):
            guard let c = path.first else { return false }
            return ranges.contains { $0.contains(c) } != negated && match(rest, path.dropFirst())
        case .segment, .any:
            var tail = path
            while true {
                if match(rest, tail) { return true }
                guard let c = tail.first, token == .any || c != "/" else { return false }
                tail = tail.dropFirst()
            }
        }
    }
}
