import Foundation
import NetobsTLS

/// Certificates made for one test with `CertificateFactory`, in memory and in a temp dir.
final class TestPKI: @unchecked Sendable {
    typealias Pair = (certificate: Certificate, key: PrivateKey)

    let ca: Pair
    let server: Pair
    let agent: Pair
    let directory: String

    init(serverNames: [String] = ["localhost"], serverIPs: [String] = ["127.0.0.1"]) throws {
        ca = try CertificateFactory.selfSigned(CertificateRequest(commonName: "test CA", usage: .certificateAuthority))
        server = try CertificateFactory.issue(
            CertificateRequest(commonName: "netobs-controller", usage: .server, role: .controller,
                               dnsNames: serverNames, ipAddresses: serverIPs), by: ca)
        agent = try CertificateFactory.issue(
            CertificateRequest(commonName: "node-1", usage: .client, role: .agent), by: ca)
        directory = NSTemporaryDirectory() + "netobs-tls-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: directory) }

    func client(_ role: NetobsRole? = .agent, usage: CertificateUsage = .client,
                notBefore: Int = -300, notAfter: Int = 86_400) throws -> Pair {
        var request = CertificateRequest(commonName: "client", usage: usage, role: role)
        request.notBefore = notBefore
        request.notAfter = notAfter
        return try CertificateFactory.issue(request, by: ca)
    }

    func serverContext(accepting roles: Set<NetobsRole> = NetobsRole.clientRoles) throws -> TLSContext {
        try TLSContext(configuration: .server(trustRoots: .bytes(ca.certificate.pem),
                                              certificateChain: .bytes(server.certificate.pem),
                                              privateKey: .bytes(server.key.pkcs8PEM),
                                              acceptedClientRoles: roles))
    }

    func clientContext(_ pair: Pair? = nil, trusting trust: Certificate? = nil) throws -> TLSContext {
        let pair = pair ?? agent
        return try TLSContext(configuration: .client(trustRoots: .bytes((trust ?? ca.certificate).pem),
                                                     certificateChain: .bytes(pair.certificate.pem),
                                                     privateKey: .bytes(pair.key.pkcs8PEM)))
    }

    /// Writes PEM files; returns the path.
    @discardableResult
    func write(_ name: String, _ bytes: [UInt8]) throws -> String {
        let path = directory + "/" + name
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return path
    }

    /// ca.pem, server.pem, server-key.pem, agent.pem, agent-key.pem.
    func writeAll() throws {
        try write("ca.pem", ca.certificate.pem)
        try write("server.pem", server.certificate.pem)
        try write("server-key.pem", server.key.pkcs8PEM)
        try write("agent.pem", agent.certificate.pem)
        try write("agent-key.pem", agent.key.pkcs8PEM)
    }
}
