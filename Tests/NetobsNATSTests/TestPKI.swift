import Foundation
import NetobsTLS

/// A CA, a server certificate for 127.0.0.1 (files, for nats-server) and client contexts.
struct TestPKI {
    typealias Pair = (certificate: Certificate, key: PrivateKey)
    let ca: Pair
    let server: Pair
    let directory = NSTemporaryDirectory() + "netobs-nats-pki-\(UUID().uuidString)"

    init() throws {
        ca = try CertificateFactory.selfSigned(CertificateRequest(commonName: "test CA", usage: .certificateAuthority))
        server = try CertificateFactory.issue(
            CertificateRequest(commonName: "nats", usage: .server, role: .controller, dnsNames: ["localhost"],
                               ipAddresses: ["127.0.0.1"]), by: ca)
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        FileManager.default.createFile(atPath: caFile, contents: Data(ca.certificate.pem))
        FileManager.default.createFile(atPath: serverCertFile, contents: Data(server.certificate.pem))
        FileManager.default.createFile(atPath: serverKeyFile, contents: Data(server.key.pkcs8PEM))
    }

    var caFile: String { directory + "/ca.pem" }
    var serverCertFile: String { directory + "/server.pem" }
    var serverKeyFile: String { directory + "/server-key.pem" }

    func clientContext(role: NetobsRole = .controller) throws -> TLSContext {
        let pair: Pair = try CertificateFactory.issue(CertificateRequest(commonName: "netobs-controller", usage: .client, role: role), by: ca)
        return try TLSContext(configuration: .client(trustRoots: .bytes(ca.certificate.pem),
                                                     certificateChain: .bytes(pair.certificate.pem),
                                                     privateKey: .bytes(pair.key.pkcs8PEM)))
    }
}
