import Foundation
import NetobsTLS

/// A throwaway CA: the controller's files on disk (it is a separate process), clients in memory.
struct BenchCertificates {
    let directory: String
    private let ca: (certificate: Certificate, key: PrivateKey)

    init(directory: String) throws {
        self.directory = directory
        ca = try CertificateFactory.selfSigned(CertificateRequest(commonName: "fleet bench CA", usage: .certificateAuthority))
        let server = CertificateRequest(commonName: "netobs-controller", usage: .server, role: .controller,
                                        ipAddresses: ["127.0.0.1"])
        let (certificate, key) = try CertificateFactory.issue(server, by: ca)
        try write("ca.pem", ca.certificate.pem)
        try write("controller.pem", certificate.pem)
        try write("controller-key.pem", key.pkcs8PEM)
    }

    /// A client context whose certificate CN is `name` (an agent's node name).
    func client(_ role: NetobsRole, name: String) throws -> TLSContext {
        let (certificate, key) = try CertificateFactory.issue(CertificateRequest(commonName: name, usage: .client, role: role), by: ca)
        return try TLSContext(configuration: .client(trustRoots: .bytes(ca.certificate.pem), certificateChain: .bytes(certificate.pem),
                                                     privateKey: .bytes(key.pkcs8PEM)))
    }

    private func write(_ name: String, _ pem: some Collection<UInt8>) throws {
        try Data(pem).write(to: URL(fileURLWithPath: directory + "/" + name))
    }
}
