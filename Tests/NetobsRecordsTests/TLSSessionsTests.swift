@testable import NetobsRecords
import Testing

/// TLS plaintext chunks in, exchanges out: HTTP/1.x per session (one SSL* in one process).
struct TLSSessionsTests {
    static let endpoints = Endpoints(localAddr: [10, 0, 0, 1] + [UInt8](repeating: 0, count: 12),
                                     remoteAddr: [10, 0, 0, 2] + [UInt8](repeating: 0, count: 12),
                                     localPort: 40000, remotePort: 443, ipVersion: 4, role: 1, netns: 7)
    static let owner = Owner(pid: 42, comm: "curl", cgroupID: 9)

    static func chunk(_ text: String, _ direction: TLSChunk.Direction, at ns: UInt64, ssl: UInt64 = 1,
                      offset: UInt32 = 0, socket: Bool = true) -> TLSChunk {
        TLSChunk(endpoints: endpoints, owner: owner, startNs: ns, ssl: ssl, length: UInt32(text.utf8.count) + offset,
                 offset: offset, direction: direction, hasSocket: socket, data: Array(text.utf8))
    }

    @Test func requestAndStatusLines() {
        #expect(HTTP1Head.request(Array("GET /a?b=1 HTTP/1.1\r\nHost: x\r\n\r\n".utf8))
            == .init(method: "GET", uri: "/a?b=1", version: "HTTP/1.1"))
        #expect(HTTP1Head.request(Array("DELETE /x HTTP/1.0\r\n".utf8))?.version == "HTTP/1.0")
        #expect(HTTP1Head.request(Array("BREW /pot HTTP/1.1\r\n".utf8)) == nil)
        #expect(HTTP1Head.request(Array("a=b".utf8)) == nil)
        #expect(HTTP1Head.status(Array("HTTP/1.1 404 Not Found\r\n".utf8)) == .init(version: "HTTP/1.1", code: 404))
        #expect(HTTP1Head.status(Array("HTTP/2.0 200 OK\r\n".utf8)) == nil)
        #expect(HTTP1Head.status(Array("HTTP/1.1 2x0 OK\r\n".utf8)) == nil)
    }

    @Test func clientKeepAliveExchangesInOrder() {
        var s = TLSSessions()
        var out: [TLSExchange] = []
        out += s.add(Self.chunk("GET /ok HTTP/1.1\r\n\r\n", .write, at: 100))
        out += s.add(Self.chunk("HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nok\n", .read, at: 250))
        out += s.add(Self.chunk("POST /busy HTTP/1.1\r\nContent-Length: 3\r\n\r\n", .write, at: 300))
        out += s.add(Self.chunk("a=b", .write, at: 301))
        out += s.add(Self.chunk("HTTP/1.1 100 Continue\r\n\r\n", .read, at: 302))
        out += s.add(Self.chunk("HTTP/1.1 503 Busy\r\n\r\n", .read, at: 400))
        #expect(out.map { "\($0.method) \($0.uri) \($0.version) \($0.status) \($0.durationNs)" }
            == ["GET /ok HTTP/1.1 200 150", "POST /busy HTTP/1.1 503 100"])
        #expect(out.allSatisfy { $0.endpoints.role == 1 && $0.hasSocket && $0.owner == Self.owner })
        #expect(s.unmatched == 0 && s.unanswered == 0)
    }

    @Test func serverSideReadsRequestsAndPipelines() {
        var s = TLSSessions()
        var out: [TLSExchange] = []
        out += s.add(Self.chunk("GET /a HTTP/1.1\r\n\r\n", .read, at: 10))
        out += s.add(Self.chunk("GET /b HTTP/1.1\r\n\r\n", .read, at: 11))
        out += s.add(Self.chunk("HTTP/1.1 200 OK\r\n\r\n", .write, at: 20))
        out += s.add(Self.chunk("HTTP/1.1 404 Not Found\r\n\r\n", .write, at: 30))
        #expect(out.map { "\($0.uri) \($0.status)" } == ["/a 200", "/b 404"])
        #expect(out.allSatisfy { $0.endpoints.role == 2 })
    }

    @Test func sessionsAreApartAndMidCallBytesAreNotMessages() {
        var s = TLSSessions()
        #expect(s.add(Self.chunk("GET /one HTTP/1.1\r\n\r\n", .write, at: 1, ssl: 1)).isEmpty)
        #expect(s.add(Self.chunk("GET /two HTTP/1.1\r\n\r\n", .write, at: 2, ssl: 2)).isEmpty)
        // A status line 4 KiB into a call is body, not a response.
        #expect(s.add(Self.chunk("HTTP/1.1 500 X\r\n\r\n", .read, at: 3, ssl: 2, offset: 4096)).isEmpty)
        let two = s.add(Self.chunk("HTTP/1.1 201 Created\r\n\r\n", .read, at: 5, ssl: 2))
        let one = s.add(Self.chunk("HTTP/1.1 204 No Content\r\n\r\n", .read, at: 6, ssl: 1))
        #expect(two.map(\.uri) == ["/two"] && two.first?.status == 201)
        #expect(one.map(\.uri) == ["/one"] && one.first?.status == 204)
    }

    @Test func aSessionNotTiedToASocketSaysSo() {
        var s = TLSSessions()
        _ = s.add(Self.chunk("GET / HTTP/1.1\r\n\r\n", .write, at: 1, socket: false))
        let out = s.add(Self.chunk("HTTP/1.1 200 OK\r\n\r\n", .read, at: 2, socket: false))
        #expect(out.count == 1 && out.first?.hasSocket == false && out.first?.endpoints.localPort == 0)
        #expect(s.withoutSocket == 1)
    }

    @Test func idleSessionsAreForgottenAndTheirRequestsCounted() {
        var s = TLSSessions()
        _ = s.add(Self.chunk("GET / HTTP/1.1\r\n\r\n", .write, at: 1))
        s.expire(nowNs: 1_000, idleNs: 500)
        #expect(s.count == 0 && s.unanswered == 1)
    }

    @Test func recordsCarryTheContractFieldsAndTLS() {
        var e = TLSExchange(endpoints: Self.endpoints, owner: Self.owner, hasSocket: true, startNs: 10, endNs: 30,
                            method: "GET", uri: "/" + String(repeating: "u", count: 200), version: "HTTP/1.1", status: 200)
        e.endpoints.role = 1
        let r = TLSRecords.record(e, context: RecordContext(node: "n", monotonicToUnixNs: 0))
        #expect(r["kind"] == .string("http"))
        #expect(r["http_tls"] == .bool(true))
        #expect(r["http_duration"] == .uint(20))
        #expect(r["http_request_uri"] == .string("/" + String(repeating: "u", count: 127)))
        #expect(r["http_request_uri_truncated"] == .bool(true))
        #expect(r["role"] == .string("client"))
        #expect(r["dst_port"] == .uint(443))
    }

    @Test func libraryClassification() {
        #expect(TLSLibrary.classify(path: "/usr/lib/x86_64-linux-gnu/libssl.so.3") == .openssl)
        #expect(TLSLibrary.classify(path: "/lib/libssl.so.1.1") == .openssl)
        #expect(TLSLibrary.classify(path: "/usr/lib/x86_64-linux-gnu/libgnutls.so.30.34.3") == .unsupported("gnutls"))
        #expect(TLSLibrary.classify(path: "/usr/lib/libssl3.so") == .unsupported("nss"))
        #expect(TLSLibrary.classify(path: "/usr/lib/x86_64-linux-gnu/libcrypto.so.3") == nil)
        let maps = """
            55d0c0a00000-55d0c0a28000 r--p 00000000 fd:01 1234 /usr/bin/curl
            7f00a0000000-7f00a0020000 r--p 00000000 fd:01 99 /usr/lib/x86_64-linux-gnu/libssl.so.3
            7f00a0020000-7f00a0090000 r-xp 00020000 fd:01 99 /usr/lib/x86_64-linux-gnu/libssl.so.3
            7f00a0100000-7f00a0120000 rw-p 00000000 00:00 0
            7ffd00000000-7ffd00021000 rw-p 00000000 00:00 0                          [stack]
            7f00a0200000-7f00a0210000 r--p 00000000 fd:01 77 /tmp/my lib/libx.so (deleted)
            """
        #expect(TLSLibrary.mappedFiles(maps: maps) == ["/usr/bin/curl", "/usr/lib/x86_64-linux-gnu/libssl.so.3"])
    }

    @Test func tlsRulesParseAndTravelInARuleSet() throws {
        let rules = try CollectionRules.parse(#"{"tls": false, "tls_binaries": {"mode": "include", "values": ["nginx", "curl"]}}"#)
        #expect(!rules.tls && rules.tlsBinaries == .init(mode: .include, values: ["nginx", "curl"]))
        #expect(rules.summary.contains("tls off") && rules.summary.contains("tls include curl,nginx"))
        let back = try CollectionRules(rules.ruleSet(version: 3))
        #expect(back == rules)
        #expect(try CollectionRules(CollectionRules().ruleSet(version: 1)).tls)
        #expect(throws: CollectionRules.Invalid.self) { try CollectionRules.parse(#"{"tls_binaries": {"mode": "include", "values": ["/usr/bin/curl"]}}"#) }
        #expect(throws: CollectionRules.Invalid.self) { try CollectionRules.parse(#"{"tls": 1}"#) }
    }
}
