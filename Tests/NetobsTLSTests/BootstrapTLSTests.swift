import Foundation
import NIOCore
import NetobsTLS
import Testing

/// What the agents' bootstrap needs from the TLS layer: CSRs, a CA that signs them from the
/// key alone, a listener that asks no client certificate, key files only their owner reads.
@Suite("bootstrap TLS pieces")
struct BootstrapTLSTests {
    @Test("a CSR made here parses back, verifies, and names only its CN")
    func csrRoundTrip() throws {
        let key = try PrivateKey.generateP256()
        let csr = try CertificateSigningRequest.make(commonName: "node-1", key: key)
        let parsed = try CertificateSigningRequest(der: csr.der)
        #expect(parsed.signatureVerifies)
        #expect(parsed.subjectEntries.map { "\($0.field)=\($0.value)" } == ["CN=node-1"])
        #expect(parsed.attributeCount == 0)
        #expect(parsed.keyAlgorithm == .p256)
        var tampered = csr.der
        tampered[tampered.count - 5] ^= 0x01  // inside the signature
        #expect(try !CertificateSigningRequest(der: tampered).signatureVerifies)
        #expect(throws: TLSError.self) { try CertificateSigningRequest(der: csr.der + [0]) }
        #expect(throws: TLSError.self) { try CertificateSigningRequest(der: []) }
    }

    @Test("the CA issues for the CSR's key only: CN, role and validity are its own")
    func issuesFromKey() throws {
        let pki = try TestPKI()
        let ca = try IssuingCA(certificate: pki.ca.certificate, key: pki.ca.key)
        let key = try PrivateKey.generateP256()
        let csr = try CertificateSigningRequest.make(commonName: "ignored", key: key)
        let certificate = try ca.issueClient(commonName: "node-7", role: .agent, keyOf: csr, lifetime: 600, backdate: 60)
        #expect(certificate.isCertified(key))
        #expect(certificate.commonName == "node-7" && certificate.role == .agent)
        #expect(certificate.notAfter - certificate.notBefore == 660)
        #expect(certificate.clientVerificationFailure(roots: [pki.ca.certificate]) == nil)
        #expect(certificate.clientVerificationFailure(roots: [try TestPKI().ca.certificate]) != nil)
        #expect(try Certificate(der: certificate.der).serialHex == certificate.serialHex)
        #expect(throws: TLSError.self) { try IssuingCA(certificate: pki.ca.certificate, key: key) }
    }

    @Test("the CA key file must not be readable by others")
    func keyFileMode() throws {
        let pki = try TestPKI()
        let ca = try pki.write("ca.pem", pki.ca.certificate.pem + pki.server.certificate.pem)
        let key = try pki.write("ca-key.pem", pki.ca.key.pkcs8PEM)
        chmod(key, 0o644)
        #expect(KeyFilePermissions.problem(key)?.contains("mode 644") == true)
        #expect(throws: TLSError.self) { try IssuingCA.load(bundleFile: ca, keyFile: key) }
        chmod(key, 0o600)
        #expect(KeyFilePermissions.problem(key) == nil)
        let loaded = try IssuingCA.load(bundleFile: ca, keyFile: key)
        #expect(loaded.certificate.subject == pki.ca.certificate.subject)
        chmod(key, 0o640)  // group read: only with our own group
        #expect(KeyFilePermissions.problem(key) == nil)
        chown(key, 0, 4242)
        #expect(KeyFilePermissions.problem(key)?.contains("group 4242") == true)
        let other = try pki.write("other-key.pem", try PrivateKey.generateP256().pkcs8PEM)
        chmod(other, 0o600)
        #expect(throws: TLSError.self) { try IssuingCA.load(bundleFile: ca, keyFile: other) }
    }

    @Test("a server that asks for no client certificate: the client still verifies it, and the handshake says who is anonymous")
    func serverWithoutClientCertificates() throws {
        let pki = try TestPKI()
        let serverContext = try TLSContext(configuration: .serverWithoutClientCertificates(
            certificateChain: .bytes(pki.server.certificate.pem), privateKey: .bytes(pki.server.key.pkcs8PEM)))
        #expect(!serverContext.verifiesPeer)
        let client = try TLSContext(configuration: .clientWithoutCertificate(trustRoots: .bytes(pki.ca.certificate.pem)))
        let server = try TLSEngine(context: serverContext)
        let clientEngine = try TLSEngine(context: client, serverName: "localhost")
        var serverDone = false
        var clientPeer: PeerIdentity?
        for _ in 0..<20 {
            if clientPeer == nil, case .complete(let peer) = try clientEngine.handshake() { clientPeer = peer }
            if !serverDone { serverDone = try server.handshake() == .completeWithoutPeerCertificate }
            if let bytes = clientEngine.takeCiphertext() { server.receive(bytes) }
            if let bytes = server.takeCiphertext() { clientEngine.receive(bytes) }
        }
        #expect(serverDone)
        #expect(clientPeer?.role == .controller)
        #expect(server.peerIdentity == nil)

        // A client pinning another CA refuses this server.
        let stranger = try TLSContext(configuration: .clientWithoutCertificate(trustRoots: .bytes(try TestPKI().ca.certificate.pem)))
        let refusing = try TLSEngine(context: stranger, serverName: "localhost")
        let server2 = try TLSEngine(context: serverContext)
        var failure: Error?
        for _ in 0..<20 where failure == nil {
            do { _ = try refusing.handshake() } catch { failure = error }
            _ = try? server2.handshake()
            if let bytes = refusing.takeCiphertext() { server2.receive(bytes) }
            if let bytes = server2.takeCiphertext() { refusing.receive(bytes) }
        }
        #expect((failure as? TLSError)?.kind == .handshake)
    }

    @Test("the peer identity carries the certificate's end and serial")
    func peerExpiry() throws {
        let pki = try TestPKI()
        let pair = try pki.client(notAfter: 120)
        let identity = PeerIdentity(certificate: pair.certificate)
        #expect(abs(identity.notAfter - Int64(Date().timeIntervalSince1970) - 120) <= 2)
        #expect(identity.serialNumber == pair.certificate.serialHex)
        #expect(RFC3339.parse(RFC3339.format(identity.notAfter)) == identity.notAfter)
        #expect(RFC3339.parse("2025-02-30T00:00:00Z") == nil)
    }

    @Test("agent credential files: stored 0600 in a 0700 directory, reloaded only when usable for that node")
    func credentialFiles() throws {
        let pki = try TestPKI()
        let dir = pki.directory + "/agent-certs"
        let files = AgentCredentialFiles(directory: dir)
        #expect(throws: AgentCredentialFiles.Unusable.self) { try files.load(node: "node-1", roots: [pki.ca.certificate]).get() }
        try files.store(.init(certificate: pki.agent.certificate, key: pki.agent.key))
        for path in [files.certificatePath, files.keyPath] {
            #expect(try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int == 0o600)
        }
        #expect(try FileManager.default.attributesOfItem(atPath: dir)[.posixPermissions] as? Int == 0o700)
        #expect(try files.load(node: "node-1", roots: [pki.ca.certificate]).get().certificate.commonName == "node-1")
        #expect(throws: AgentCredentialFiles.Unusable.self) { try files.load(node: "node-2", roots: [pki.ca.certificate]).get() }
        #expect(throws: AgentCredentialFiles.Unusable.self) { try files.load(node: "node-1", roots: [try TestPKI().ca.certificate]).get() }
        let expired = try pki.client(notBefore: -7200, notAfter: -3600)
        try files.store(.init(certificate: expired.certificate, key: expired.key))
        let reason = try #require(files.load(node: "client", roots: [pki.ca.certificate]).failure)
        #expect(reason.description.contains("expired"))
    }
}

