import NIOCore
import NetobsTLS
import Testing

@Suite("TLSEngine in memory")
struct TLSEngineTests {
    @Test("handshake, identities, data both ways, close_notify")
    func handshakeAndData() throws {
        let pki = try TestPKI()
        var pump = EnginePump(client: try TLSEngine(context: pki.clientContext(), serverName: "localhost"),
                              server: try TLSEngine(context: pki.serverContext()))
        pump.handshake()
        let serverSaw = try #require(pump.serverResult?.success)
        let clientSaw = try #require(pump.clientResult?.success)
        #expect(serverSaw.role == .agent)
        #expect(serverSaw.commonName == "node-1")
        #expect(serverSaw.fingerprintSHA256.count == 64)
        #expect(clientSaw.role == .controller)
        #expect(clientSaw.dnsNames == ["localhost"])
        #expect(clientSaw.ipAddresses == ["127.0.0.1"])

        try pump.client.write(ByteBuffer(string: "ping"))
        pump.shuttle()
        #expect(try EnginePump.readAll(pump.server).bytes == Array("ping".utf8))
        let big = [UInt8](repeating: 0x5a, count: 100_000)  // several records
        try pump.server.write(ByteBuffer(bytes: big))
        pump.shuttle()
        #expect(try EnginePump.readAll(pump.client).bytes == big)

        #expect(pump.client.close() == false)
        pump.shuttle()
        #expect(try EnginePump.readAll(pump.server).closeNotify)
        #expect(pump.server.close() == true)
    }

    @Test("connecting by IP address checks IP SANs")
    func ipName() throws {
        let pki = try TestPKI()
        var pump = EnginePump(client: try TLSEngine(context: pki.clientContext(), serverName: "127.0.0.1"),
                              server: try TLSEngine(context: pki.serverContext()))
        pump.handshake()
        #expect(pump.clientResult?.success != nil)
        #expect(pump.serverResult?.success != nil)
    }

    @Test("wrong server name: the client refuses")
    func wrongName() throws {
        let pki = try TestPKI()
        var pump = EnginePump(client: try TLSEngine(context: pki.clientContext(), serverName: "controller.example"),
                              server: try TLSEngine(context: pki.serverContext()))
        pump.handshake()
        let error = try #require(pump.clientResult?.failure as? TLSError)
        #expect(error.kind == .handshake)
        #expect(error.message.contains("hostname mismatch (expected controller.example)"))
        #expect(pump.serverResult?.success == nil)
        #expect(throws: TLSError.self) { try pump.client.write(ByteBuffer(string: "secret")) }
    }

    @Test("client certificate from another CA: the server refuses")
    func otherCA() throws {
        let pki = try TestPKI()
        let other = try TestPKI()
        var pump = EnginePump(client: try TLSEngine(context: pki.clientContext(other.agent), serverName: "localhost"),
                              server: try TLSEngine(context: pki.serverContext()))
        pump.handshake()
        try expectServerRejected(&pump, serverSays: "unable to get local issuer certificate")
    }

    @Test("server certificate from another CA: the client refuses")
    func serverFromOtherCA() throws {
        let pki = try TestPKI()
        let other = try TestPKI()
        var pump = EnginePump(client: try TLSEngine(context: pki.clientContext(trusting: other.ca.certificate),
                                                    serverName: "localhost"),
                              server: try TLSEngine(context: pki.serverContext()))
        pump.handshake()
        let error = try #require(pump.clientResult?.failure as? TLSError)
        #expect(error.message.contains("unable to get local issuer certificate"))
        #expect(pump.serverResult?.success == nil)
    }

    @Test("expired client certificate: the server refuses")
    func expired() throws {
        let pki = try TestPKI()
        let expired = try pki.client(notBefore: -2 * 86_400, notAfter: -86_400)
        var pump = EnginePump(client: try TLSEngine(context: pki.clientContext(expired), serverName: "localhost"),
                              server: try TLSEngine(context: pki.serverContext()))
        pump.handshake()
        try expectServerRejected(&pump, serverSays: "certificate has expired")
    }

    @Test("client certificate without a role, or with one not accepted: the server refuses")
    func roles() throws {
        let pki = try TestPKI()
        let cases: [(TestPKI.Pair, Set<NetobsRole>)] = [(try pki.client(nil), NetobsRole.clientRoles),
                                                        (try pki.client(.consumer), [.agent, .operator])]
        for (client, accepted) in cases {
            var pump = EnginePump(client: try TLSEngine(context: pki.clientContext(client), serverName: "localhost"),
                                  server: try TLSEngine(context: pki.serverContext(accepting: accepted)))
            pump.handshake()
            try expectServerRejected(&pump, serverSays: "client certificate carries no accepted netobs role")
        }
        // The operator may be the only accepted role.
        var pump = EnginePump(client: try TLSEngine(context: pki.clientContext(pki.client(.operator)),
                                                    serverName: "localhost"),
                              server: try TLSEngine(context: pki.serverContext(accepting: [.operator])))
        pump.handshake()
        #expect(pump.serverResult?.success?.role == .operator)
    }

    @Test("a server certificate used as a client certificate is refused (purpose check)")
    func wrongUsage() throws {
        let pki = try TestPKI()
        let serverUsage = try pki.client(.agent, usage: .server)
        var pump = EnginePump(client: try TLSEngine(context: pki.clientContext(serverUsage), serverName: "localhost"),
                              server: try TLSEngine(context: pki.serverContext()))
        pump.handshake()
        try expectServerRejected(&pump, serverSays: "unsuitable certificate purpose")
    }

    @Test("garbage instead of a ClientHello: a clean error, no plaintext")
    func garbage() throws {
        let pki = try TestPKI()
        let server = try TLSEngine(context: pki.serverContext())
        server.receive(Array("GET / HTTP/1.1\r\nHost: x\r\n\r\n".utf8))
        let error = try #require(throws: TLSError.self) { try server.handshake() }
        #expect(error.kind == .handshake)
        #expect(error.message.contains("handshake with client failed"))
        #expect(server.state == .failed)
        #expect(throws: TLSError.self) { try EnginePump.readAll(server) }
    }

    @Test("a client needs a server name")
    func clientNeedsName() throws {
        let pki = try TestPKI()
        let error = try #require(throws: TLSError.self) { try TLSEngine(context: pki.clientContext()) }
        #expect(error.message.contains("server name"))
    }

    /// TLS 1.3: the client finishes first, then learns of the rejection from the alert.
    private func expectServerRejected(_ pump: inout EnginePump, serverSays reason: String,
                                      sourceLocation: SourceLocation = #_sourceLocation) throws {
        let error = try #require(pump.serverResult?.failure as? TLSError, sourceLocation: sourceLocation)
        #expect(error.kind == .handshake, sourceLocation: sourceLocation)
        #expect(error.message.contains(reason), "\(error.message)", sourceLocation: sourceLocation)
        if pump.clientResult?.success != nil {
            try pump.client.write(ByteBuffer(string: "must not arrive"))
            pump.shuttle()
            let clientError = try #require(throws: TLSError.self, sourceLocation: sourceLocation) {
                try EnginePump.readAll(pump.client)
            }
            #expect(clientError.message.contains("alert"), "\(clientError.message)", sourceLocation: sourceLocation)
        }
        #expect(throws: TLSError.self, sourceLocation: sourceLocation) { try EnginePump.readAll(pump.server) }
    }
}
