import Foundation
import Testing
import NetobsController
import NetobsTLS

@Suite("bootstrap token file")
struct BootstrapTokenFileTests {
    @Test("lines: token, scope, optional expiry and comment; blank lines and comments skipped")
    func parses() {
        let parsed = BootstrapTokenFile.parse("""
            # netobs bootstrap tokens

            abcdef.0123456789abcdef node=worker-1   # alice, 2025-06
            ghijkl.0123456789abcdef node=worker-* expires=2030-01-02T03:04:05Z
            mnopqr.0123456789abcdef\tnode=*
            """)
        #expect(parsed.errors.isEmpty)
        #expect(parsed.tokens.map(\.id) == ["abcdef", "ghijkl", "mnopqr"])
        #expect(parsed.tokens.map(\.scope) == [.node("worker-1"), .prefix("worker-"), .anyNode])
        #expect(parsed.tokens[1].expires == 1_893_553_445)
        #expect(parsed.tokens[1].description == "token ghijkl node=worker-* expires=2030-01-02T03:04:05Z")
        #expect(BootstrapToken.Scope.prefix("worker-").allows("worker-7"))
        #expect(!BootstrapToken.Scope.prefix("worker-").allows("db-1"))
        #expect(!BootstrapToken.Scope.node("worker-1").allows("worker-10"))
    }

    @Test("bad lines are named by number and never echo a secret")
    func errors() {
        let parsed = BootstrapTokenFile.parse("""
            abcdef.0123456789abcdef
            ABCDEF.0123456789abcdef node=a
            ghijkl.0123456789abcdef node=Worker_1
            mnopqr.0123456789abcdef node=a expires=tomorrow
            stuvwx.0123456789abcdef node=a role=admin
            yz0123.0123456789abcdef node=a
            yz0123.fedcba9876543210 node=b
            short.secret node=a
            """)
        #expect(parsed.tokens.map(\.id) == ["yz0123"])
        #expect(parsed.errors.count == 7)
        #expect(parsed.errors[0].hasPrefix("line 1: token abcdef has no scope"))
        #expect(parsed.errors[1].hasPrefix("line 2: the first field is not a token"))
        #expect(parsed.errors[2].hasPrefix("line 3: node=Worker_1"))
        #expect(parsed.errors[3].contains("expected expires=YYYY-MM-DDTHH:MM:SSZ"))
        #expect(parsed.errors[4].contains("unexpected field \"role=admin\""))
        #expect(parsed.errors[5] == "line 7: token yz0123 is already on an earlier line")
        #expect(parsed.errors[6].hasPrefix("line 8:"))
        for error in parsed.errors {
            #expect(!error.contains("0123456789abcdef") && !error.contains("fedcba") && !error.contains("secret"))
        }
    }

    @Test("generated tokens have the format and make lines that parse back")
    func generated() {
        let tokens = (0..<50).map { _ in BootstrapToken.generate() }
        #expect(Set(tokens).count == 50)
        for token in tokens { #expect(BootstrapToken.split(token) != nil) }
        let line = BootstrapTokenFile.line(token: tokens[0], scope: .node("node-1"), expires: 1_893_553_445, comment: "ci\nrunner")
        let parsed = BootstrapTokenFile.parse(line)
        #expect(parsed.errors.isEmpty && parsed.tokens.first?.scope == .node("node-1"))
        #expect(line.hasSuffix("expires=2030-01-02T03:04:05Z  # cirunner"))
    }

    @Test("the store re-reads a changed file; at start a bad line is an error, later it is left out")
    func store() throws {
        let dir = temporaryDirectory("tokens")
        let path = dir + "/tokens"
        try "abcdef.0123456789abcdef node=a\nbad line\n".write(toFile: path, atomically: true, encoding: .utf8)
        #expect(throws: TLSError.self) { try BootstrapTokenStore(path: path, log: .silent) }
        try "abcdef.0123456789abcdef node=a\n".write(toFile: path, atomically: true, encoding: .utf8)
        let log = LogLines()
        let store = try BootstrapTokenStore(path: path, log: ControllerLog(log.sink))
        #expect(store.authorize(token: "abcdef.0123456789abcdef", node: "a", now: 0) == .granted(tokenId: "abcdef", scope: .node("a")))
        try "ghijkl.0123456789abcdef node=*\nbad line\n".write(toFile: path, atomically: true, encoding: .utf8)
        #expect(store.authorize(token: "abcdef.0123456789abcdef", node: "a", now: 0)
            == .refused("unknown bootstrap token (never issued, or revoked)", tokenId: nil))
        #expect(store.authorize(token: "ghijkl.0123456789abcdef", node: "zz", now: 0) == .granted(tokenId: "ghijkl", scope: .anyNode))
        #expect(log.lines.contains { $0.contains("line 2: the first field is not a token") && $0.contains("that line is ignored") })
        try FileManager.default.removeItem(atPath: path)
        #expect(store.authorize(token: "ghijkl.0123456789abcdef", node: "zz", now: 0)
            == .refused("unknown bootstrap token (never issued, or revoked)", tokenId: nil))
        #expect(log.lines.contains { $0.contains("every bootstrap request is refused") })
    }

    @Test("node names: lowercase RFC 1123 subdomains of at most 253 bytes")
    func nodeNames() {
        for good in ["node-1", "ip-10-0-0-1.ec2.internal", "a", String(repeating: "a", count: 63)] {
            #expect(NodeName.problem(good) == nil, "\(good)")
        }
        for bad in ["", "Node-1", "node_1", "-node", "node-", "a..b", ".a", String(repeating: "a", count: 64),
                    String(repeating: "a.", count: 127) + "a", "node 1", "nöde"] {
            #expect(NodeName.problem(bad) != nil, "\(bad)")
        }
    }
}
