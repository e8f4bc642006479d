#if canImport(Glibc)
import Glibc
#endif

/// The certificates of a local setup (`netobs certs init`): one CA, the controller's server
/// certificate, and one client certificate per role. Keys are written with mode 0600. The agent
/// certificate's CN is the agent's node name: the controller refuses an agent whose Hello names
/// another node (`issueAgent` makes one for each further node).
public enum LocalPKI {
    public struct File: Sendable, Equatable {
        public var path: String
        /// What it is, for people ("CA certificate", "agent key").
        public var what: String
        public var mode: UInt32
    }

    public static let clientRoles: [NetobsRole] = [.agent, .operator, .consumer]

    /// The files `create` writes into `directory`, in order.
    public static func plannedFiles(in directory: String) -> [File] {
        func file(_ name: String, _ what: String, key: Bool) -> File {
            File(path: join(directory, name), what: what, mode: key ? 0o600 : 0o644)
        }
        var files = [file("ca.pem", "CA certificate", key: false), file("ca-key.pem", "CA key", key: true),
                     file("controller.pem", "controller certificate", key: false),
                     file("controller-key.pem", "controller key", key: true)]
        for role in clientRoles {
            files.append(file("\(role.rawValue).pem", "\(role.rawValue) certificate", key: false))
            files.append(file("\(role.rawValue)-key.pem", "\(role.rawValue) key", key: true))
        }
        return files
    }

    /// Makes and writes everything. Without `force`, refuses (before writing anything) when any
    /// of the files exists. `hosts` are the controller's names: IP literals become IP SANs,
    /// the rest DNS SANs.
    public static func create(in directory: String, hosts: [String], days: Int, force: Bool,
                              agentNode: String = "netobs-agent") throws -> [File] {
        guard !hosts.isEmpty else { throw TLSError(.configuration, "at least one controller host is needed") }
        guard days > 0 else { throw TLSError(.configuration, "--days must be positive") }
        let files = plannedFiles(in: directory)
        let existing = files.filter { SecureFile.exists($0.path) }.map(\.path)
        if !force && !existing.isEmpty {
            throw TLSError(.configuration,
                           "refusing to overwrite \(existing.joined(separator: ", ")) (use --force)")
        }
        try SecureFile.makeDirectory(directory)

        let ca = try CertificateFactory.selfSigned(
            CertificateRequest(commonName: "netobs local CA", usage: .certificateAuthority, validDays: days))
        let ips = hosts.filter(isIPAddress)
        let controller = try CertificateFactory.issue(
            CertificateRequest(commonName: "netobs-controller", usage: .server, role: .controller,
                               dnsNames: hosts.filter { !isIPAddress($0) }, ipAddresses: ips, validDays: days),
            by: ca)
        var contents: [[UInt8]] = [ca.0.pem, ca.1.pkcs8PEM, controller.0.pem, controller.1.pkcs8PEM]
        for role in clientRoles {
            let client = try CertificateFactory.issue(
                CertificateRequest(commonName: role == .agent ? agentNode : "netobs-\(role.rawValue)",
                                   usage: .client, role: role,
                                   validDays: days),
                by: ca)
            contents += [client.0.pem, client.1.pkcs8PEM]
        }
        for (file, bytes) in zip(files, contents) {
            try SecureFile.write(bytes, to: file.path, mode: mode_t(file.mode))
        }
        return files
    }

    /// Writes `ca.pem`, `agent.pem` and `agent-key.pem` for node `node` into `output` (an
    /// agent's --certs directory), signed by the CA in `caDirectory`.
    public static func issueAgent(caDirectory: String, node: String, into output: String, days: Int) throws -> [File] {
        guard !node.isEmpty else { throw TLSError(.configuration, "the node name is empty") }
        let caPEM = try FileBytes.read(join(caDirectory, "ca.pem"), what: "CA certificate", limit: 1 << 20)
        let caKey = try PrivateKey(pem: try FileBytes.read(join(caDirectory, "ca-key.pem"), what: "CA key", limit: 1 << 20),
                                   source: join(caDirectory, "ca-key.pem"))
        let ca = (try Certificate(pem: caPEM), caKey)
        let pair = try CertificateFactory.issue(
            CertificateRequest(commonName: node, usage: .client, role: .agent, validDays: days), by: ca)
        try SecureFile.makeDirectory(output)
        let files = [File(path: join(output, "ca.pem"), what: "CA certificate", mode: 0o644),
                     File(path: join(output, "agent.pem"), what: "agent certificate for \(node)", mode: 0o644),
                     File(path: join(output, "agent-key.pem"), what: "agent key", mode: 0o600)]
        for (file, bytes) in zip(files, [caPEM, pair.0.pem, pair.1.pkcs8PEM]) {
            try SecureFile.write(bytes, to: file.path, mode: mode_t(file.mode))
        }
        return files
    }

    static func isIPAddress(_ text: String) -> Bool {
        var v4 = in_addr()
        var v6 = in6_addr()
        return inet_pton(AF_INET, text, &v4) == 1 || inet_pton(AF_INET6, text, &v6) == 1
    }

    private static func join(_ directory: String, _ name: String) -> String {
        directory.hasSuffix("/") ? directory + name : directory + "/" + name
    }
}
