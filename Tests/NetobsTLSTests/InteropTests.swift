import Foundation
import NIOCore
import NIOPosix
import NetobsTLS
import Testing

/// Against the `openssl` tool as a real peer.
@Suite("OpenSSL command-line interop")
struct InteropTests {
    @Test("openssl s_client with an agent certificate talks to our server")
    func sClientToServer() async throws {
        let pki = try TestPKI()
        try pki.writeAll()
        let server = try await EchoServer.start(pki.serverContext(), closeAfterEcho: true)
        let dir = pki.directory
        let output = try await Task.detached {
            try OpenSSLTool.run(["s_client", "-connect", "127.0.0.1:\(server.port)", "-tls1_3", "-quiet",
                                 "-CAfile", "\(dir)/ca.pem", "-cert", "\(dir)/agent.pem",
                                 "-key", "\(dir)/agent-key.pem", "-verify_return_error",
                                 "-verify_hostname", "localhost"],
                                input: "hello from s_client\n")
        }.value
        #expect(output.stdout.contains("hello from s_client"), "\(output.all)")
        try await wait(server.log.closed.futureResult)
        #expect(server.log.peer?.role == .agent)
        #expect(server.log.errors.isEmpty, "\(server.log.errors)")
        try await server.stop()
    }

    @Test("a TLS 1.2-only client is refused")
    func tls12Refused() async throws {
        let pki = try TestPKI()
        try pki.writeAll()
        let server = try await EchoServer.start(pki.serverContext())
        let dir = pki.directory
        let output = try await Task.detached {
            try OpenSSLTool.run(["s_client", "-connect", "127.0.0.1:\(server.port)", "-tls1_2",
                                 "-CAfile", "\(dir)/ca.pem", "-cert", "\(dir)/agent.pem",
                                 "-key", "\(dir)/agent-key.pem"], input: "secret\n")
        }.value
        #expect(output.status != 0)
        #expect(output.all.contains("alert protocol version"), "\(output.all)")
        try await wait(server.log.closed.futureResult)
        #expect(server.log.received.isEmpty)
        #expect(server.log.errors.first?.message.contains("unsupported protocol") == true, "\(server.log.errors)")
        try await server.stop()
    }

    @Test("a client without a certificate is refused")
    func noClientCertificate() async throws {
        let pki = try TestPKI()
        try pki.writeAll()
        let server = try await EchoServer.start(pki.serverContext())
        let dir = pki.directory
        let output = try await Task.detached {
            try OpenSSLTool.run(["s_client", "-connect", "127.0.0.1:\(server.port)", "-tls1_3", "-ign_eof",
                                 "-CAfile", "\(dir)/ca.pem"], input: "secret\n")
        }.value
        #expect(output.all.contains("certificate required"), "\(output.all)")
        try await wait(server.log.closed.futureResult)
        #expect(server.log.received.isEmpty)
        #expect(server.log.errors.first?.message.contains("peer did not return a certificate") == true,
                "\(server.log.errors)")
        try await server.stop()
    }

    @Test("our client talks to openssl s_server (which requires a client certificate)")
    func clientToSServer() async throws {
        let pki = try TestPKI()
        try pki.writeAll()
        let dir = pki.directory
        let (process, port, _) = try OpenSSLTool.startServer(
            ["-tls1_3", "-rev", "-naccept", "1", "-cert", "\(dir)/server.pem", "-key", "\(dir)/server-key.pem",
             "-CAfile", "\(dir)/ca.pem", "-Verify", "2", "-verify_return_error"])
        defer { process.terminate() }
        let (client, log) = try await connectClient(pki.clientContext(), port: port, serverName: "localhost",
                                                    message: "netobs\n")
        try await wait(log.gotData.futureResult)
        // `-rev` answers each line reversed: proof the bytes went through a real TLS stack.
        #expect(String(decoding: log.received, as: UTF8.self).contains("sboten"))
        #expect(log.peer?.role == .controller)
        try await client.close()
    }
}
