import Foundation
import NetobsTLS
import Testing
@testable import NetobsMain

@Suite("netobs certs init")
struct CertsInitTests {
    private func run(_ arguments: [String]) throws {
        var command = try NetobsCommand.parseAsRoot(arguments)
        try command.run()
    }

    @Test("makes files openssl verifies, with private keys 0600, usable for mutual TLS")
    func makesUsableFiles() async throws {
        let dir = NSTemporaryDirectory() + "netobs-certs-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try run(["certs", "init", "--dir", dir, "--hosts", "127.0.0.1,localhost", "--days", "30"])

        for file in LocalPKI.plannedFiles(in: dir) {
            let mode = try FileManager.default.attributesOfItem(atPath: file.path)[.posixPermissions] as? Int
            #expect(mode == (file.path.hasSuffix("-key.pem") ? 0o600 : 0o644), "\(file.path)")
        }
        try OpenSSLTool.require()
        for name in ["agent", "operator", "consumer", "controller"] {
            let out = try OpenSSLTool.run(["verify", "-CAfile", "\(dir)/ca.pem", "\(dir)/\(name).pem"])
            #expect(out.status == 0 && out.stdout.contains(": OK"), "\(out.all)")
        }

        let server = try await EchoServer.start(TLSContext(configuration: .server(
            trustRoots: .file("\(dir)/ca.pem"), certificateChain: .file("\(dir)/controller.pem"),
            privateKey: .file("\(dir)/controller-key.pem"))))
        for (role, name) in [(NetobsRole.operator, "127.0.0.1"), (.consumer, "localhost")] {
            let context = try TLSContext(configuration: .client(
                trustRoots: .file("\(dir)/ca.pem"), certificateChain: .file("\(dir)/\(role.rawValue).pem"),
                privateKey: .file("\(dir)/\(role.rawValue)-key.pem")))
            let (client, log) = try await connectClient(context, port: server.port, serverName: name, message: "hi")
            try await wait(log.gotData.futureResult)
            #expect(log.received == Array("hi".utf8))
            try await client.close()
        }
        try await wait(server.log.closed.futureResult)
        #expect(server.log.peer?.role != nil)
        try await server.stop()
    }

    @Test("refuses to overwrite without --force")
    func refusesOverwrite() throws {
        let dir = NSTemporaryDirectory() + "netobs-certs-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try run(["certs", "init", "--dir", dir])
        let before = try Data(contentsOf: URL(fileURLWithPath: "\(dir)/ca.pem"))
        #expect(throws: (any Error).self) { try run(["certs", "init", "--dir", dir]) }
        #expect(try Data(contentsOf: URL(fileURLWithPath: "\(dir)/ca.pem")) == before)
        try run(["certs", "init", "--dir", dir, "--force"])
        #expect(try Data(contentsOf: URL(fileURLWithPath: "\(dir)/ca.pem")) != before)
    }
}
