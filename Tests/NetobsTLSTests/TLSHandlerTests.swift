import NIOCore
import NIOPosix
import NetobsTLS
import Testing

@Suite("TLSHandler over loopback sockets")
struct TLSHandlerTests {
    @Test("mutual-TLS echo; the server sees the client's role")
    func echo() async throws {
        let pki = try TestPKI()
        let server = try await EchoServer.start(pki.serverContext())
        let (client, clientLog) = try await connectClient(pki.clientContext(), port: server.port,
                                                          serverName: "localhost", message: "hello netobs")
        try await wait(clientLog.gotData.futureResult)
        #expect(String(decoding: clientLog.received, as: UTF8.self) == "hello netobs")
        #expect(server.log.peer?.role == .agent)
        #expect(server.log.peer?.commonName == "node-1")
        #expect(clientLog.peer?.role == .controller)

        // close_notify both ways: neither end reports an unclean shutdown.
        try await client.close()
        try await wait(server.log.closed.futureResult)
        #expect(server.log.errors.isEmpty, "\(server.log.errors)")
        #expect(clientLog.errors.isEmpty, "\(clientLog.errors)")
        try await server.stop()
    }

    @Test("expired client certificate: both ends fail cleanly, no plaintext crosses")
    func expired() async throws {
        let pki = try TestPKI()
        let server = try await EchoServer.start(pki.serverContext())
        let expired = try pki.client(notBefore: -2 * 86_400, notAfter: -86_400)
        let (_, clientLog) = try await connectClient(pki.clientContext(expired), port: server.port,
                                                     serverName: "localhost", message: "must not arrive")
        try await wait(server.log.closed.futureResult)
        try await wait(clientLog.closed.futureResult)
        #expect(server.log.received.isEmpty)
        #expect(clientLog.received.isEmpty)
        #expect(server.log.peer == nil)
        let serverError = try #require(server.log.errors.first)
        #expect(serverError.kind == .handshake)
        #expect(serverError.message.contains("certificate has expired"))
        #expect(clientLog.errors.contains { $0.message.contains("alert certificate expired") }, "\(clientLog.errors)")
        try await server.stop()
    }

    @Test("wrong server name: the client fails the handshake and sends nothing")
    func wrongName() async throws {
        let pki = try TestPKI()
        let server = try await EchoServer.start(pki.serverContext())
        let (_, clientLog) = try await connectClient(pki.clientContext(), port: server.port,
                                                     serverName: "elsewhere.example", message: "secret")
        try await wait(clientLog.closed.futureResult)
        try await wait(server.log.closed.futureResult)
        #expect(clientLog.errors.first?.message.contains("hostname mismatch") == true, "\(clientLog.errors)")
        #expect(clientLog.peer == nil)
        #expect(server.log.received.isEmpty)
        try await server.stop()
    }

    @Test("garbage instead of a ClientHello over a socket: the server closes, echoes nothing")
    func garbage() async throws {
        let pki = try TestPKI()
        let server = try await EchoServer.start(pki.serverContext())
        let log = ConnectionLog(eventLoop: MultiThreadedEventLoopGroup.singleton.next())
        let raw = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(RecordingHandler(log: log))
                }
            }
            .connect(host: "127.0.0.1", port: server.port).get()
        try await raw.writeAndFlush(ByteBuffer(string: "GET / HTTP/1.1\r\nHost: controller\r\n\r\n"))
        try await wait(log.closed.futureResult)
        try await wait(server.log.closed.futureResult)
        #expect(server.log.received.isEmpty)
        #expect(server.log.errors.first?.kind == .handshake, "\(server.log.errors)")
        // At most a TLS alert record (content type 21) came back, never the request.
        #expect(log.received.isEmpty || log.received.first == 21)
        try await server.stop()
    }

    @Test("peer closes during the handshake: a clean error")
    func closedDuringHandshake() async throws {
        let pki = try TestPKI()
        let server = try await EchoServer.start(pki.serverContext())
        let raw = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(host: "127.0.0.1", port: server.port).get()
        try await raw.close()
        try await wait(server.log.closed.futureResult)
        #expect(server.log.errors.first?.kind == .closedDuringHandshake, "\(server.log.errors)")
        try await server.stop()
    }
}
