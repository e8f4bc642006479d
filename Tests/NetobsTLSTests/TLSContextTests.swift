import NetobsTLS
import Testing

@Suite("TLSContext loading")
struct TLSContextTests {
    @Test("files load; errors name the files")
    func files() throws {
        let pki = try TestPKI()
        try pki.writeAll()
        let dir = pki.directory
        _ = try TLSContext(configuration: .server(trustRoots: .file("\(dir)/ca.pem"),
                                                  certificateChain: .file("\(dir)/server.pem"),
                                                  privateKey: .file("\(dir)/server-key.pem")))

        let mismatch = try #require(throws: TLSError.self) {
            try TLSContext(configuration: .server(trustRoots: .file("\(dir)/ca.pem"),
                                                  certificateChain: .file("\(dir)/server.pem"),
                                                  privateKey: .file("\(dir)/agent-key.pem")))
        }
        #expect(mismatch.message == "certificate \(dir)/server.pem does not match key \(dir)/agent-key.pem")

        let missing = try #require(throws: TLSError.self) {
            try TLSContext(configuration: .client(trustRoots: .file("\(dir)/nope.pem"),
                                                  certificateChain: .file("\(dir)/agent.pem"),
                                                  privateKey: .file("\(dir)/agent-key.pem")))
        }
        #expect(missing.message == "cannot read CA bundle \(dir)/nope.pem: No such file or directory")

        let notPEM = try pki.write("junk.pem", Array("hello".utf8))
        let empty = try #require(throws: TLSError.self) {
            try TLSContext(configuration: .client(trustRoots: .file(notPEM),
                                                  certificateChain: .file("\(dir)/agent.pem"),
                                                  privateKey: .file("\(dir)/agent-key.pem")))
        }
        #expect(empty.message == "CA bundle \(notPEM) contains no certificate")

        let badKey = try #require(throws: TLSError.self) {
            try TLSContext(configuration: .client(trustRoots: .file("\(dir)/ca.pem"),
                                                  certificateChain: .file("\(dir)/agent.pem"),
                                                  privateKey: .file(notPEM)))
        }
        #expect(badKey.message.hasPrefix("cannot read private key \(notPEM)"))
    }

    @Test("key material never shows in descriptions or errors")
    func noSecrets() throws {
        let pki = try TestPKI()
        let keyPEM = String(decoding: pki.agent.key.pkcs8PEM, as: UTF8.self)
        #expect(keyPEM.contains("BEGIN PRIVATE KEY"))
        #expect(!"\(pki.agent.key)".contains("BEGIN"))
        #expect(PEMSource.bytes(pki.agent.key.pkcs8PEM).description == "<\(pki.agent.key.pkcs8PEM.count) bytes of PEM>")
        let error = try #require(throws: TLSError.self) {
            try TLSContext(configuration: .client(trustRoots: .bytes(pki.ca.certificate.pem),
                                                  certificateChain: .bytes(pki.server.certificate.pem),
                                                  privateKey: .bytes(pki.agent.key.pkcs8PEM)))
        }
        #expect(!error.message.contains("PRIVATE"))
    }
}
