#if canImport(Glibc)
import Glibc
#endif

/// An agent's own certificate and key in its `--certs` directory (`agent.pem`, `agent-key.pem`),
/// as a bootstrapping agent keeps them: both mode 0600, the directory 0700.
public struct AgentCredentialFiles: Sendable {
    public let directory: String
    public var certificatePath: String { directory + "/agent.pem" }
    public var keyPath: String { directory + "/agent-key.pem" }

    public init(directory: String) {
        self.directory = directory.hasSuffix("/") && directory.count > 1 ? String(directory.dropLast()) : directory
    }

    public struct Pair: Sendable {
        public let certificate: Certificate
        public let key: PrivateKey

        public init(certificate: Certificate, key: PrivateKey) {
            self.certificate = certificate
            self.key = key
        }
    }

    /// The stored pair if an agent named `node` can use it now: it parses, the key belongs to
    /// the certificate, it is an agent certificate for `node`, it chains to `roots` and is
    /// valid at this moment. Otherwise the reason it cannot be used (missing, expired, another node, ...).
    public func load(node: String, roots: [Certificate]) -> Result<Pair, Unusable> {
        guard SecureFile.exists(certificatePath), SecureFile.exists(keyPath) else {
            return .failure(Unusable("no certificate in \(directory) yet"))
        }
        let pair: Pair
        do {
            let certificate = try Certificate(pem: FileBytes.read(certificatePath, what: "agent certificate", limit: 1 << 20))
            let key = try PrivateKey(pem: FileBytes.read(keyPath, what: "agent key", limit: 1 << 20), source: keyPath)
            pair = Pair(certificate: certificate, key: key)
        } catch {
            return .failure(Unusable("cannot read \(certificatePath) or its key: \(error)"))
        }
        if let reason = Self.problem(pair, node: node, roots: roots) { return .failure(Unusable(reason)) }
        return .success(pair)
    }

    /// Why `pair` is no usable agent identity for `node` under `roots` now, or nil.
    public static func problem(_ pair: Pair, node: String, roots: [Certificate]) -> String? {
        let certificate = pair.certificate
        guard certificate.isCertified(pair.key) else { return "the key does not belong to the certificate" }
        guard certificate.commonName == node else {
            return "the certificate is for \"\(certificate.commonName ?? "")\", not node \"\(node)\""
        }
        guard certificate.role == .agent else { return "the certificate carries no agent role (OU=netobs-agent)" }
        if let failure = certificate.clientVerificationFailure(roots: roots) { return "the certificate: \(failure)" }
        return nil
    }

    /// Writes key then certificate, each atomically with mode 0600 (a crash in between leaves a
    /// pair that `load` refuses, and the agent asks again).
    public func store(_ pair: Pair) throws {
        try SecureFile.makeDirectory(directory, mode: 0o700)
        try SecureFile.write(pair.key.pkcs8PEM, to: keyPath, mode: 0o600)
        try SecureFile.write(pair.certificate.pem, to: certificatePath, mode: 0o600)
    }

    public struct Unusable: Error, CustomStringConvertible, Sendable {
        public let description: String
        init(_ description: String) { self.description = description }
    }
}
