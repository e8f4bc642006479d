import Foundation
import NetobsAgentLink
import NetobsController
import NetobsTLS
import NetobsWire

/// A controller with its bootstrap listener, on loopback, with the CA key and a token file on disk.
final class BootstrapLab: @unchecked Sendable {
    let pki: PKI
    let directory = temporaryDirectory("bootstrap")
    let log = LogLines()
    let controller: Controller
    let server: BootstrapServer
    let tokens: BootstrapTokenStore
    let caFile: String
    let tokenFile: String

    /// `lines`: the token file. `lifetime`: seconds each issued certificate is valid.
    init(lines: [String], lifetime: Int = 3_600, requestTimeout: Int64 = 10) async throws {
        pki = try PKI()
        caFile = directory + "/ca.pem"
        tokenFile = directory + "/tokens"
        try Data(pki.ca.certificate.pem).write(to: URL(fileURLWithPath: caFile))
        let keyFile = directory + "/ca-key.pem"
        _ = FileManager.default.createFile(atPath: keyFile, contents: Data(pki.ca.key.pkcs8PEM),
                                       attributes: [.posixPermissions: 0o600])
        try (lines.joined(separator: "\n") + "\n").write(toFile: tokenFile, atomically: true, encoding: .utf8)
        controller = try await startController(pki, data: temporaryDirectory("data"), log: log)
        tokens = try BootstrapTokenStore(path: tokenFile, log: ControllerLog(log.sink))
        let enrollment = AgentEnrollment(authority: try IssuingCA.load(bundleFile: caFile, keyFile: keyFile),
                                         tokens: tokens, lifetime: lifetime)
        let tls = try TLSContext(configuration: .serverWithoutClientCertificates(
            certificateChain: .bytes(pki.server.certificate.pem), privateKey: .bytes(pki.server.key.pkcs8PEM)))
        var configuration = BootstrapServer.Configuration(host: "127.0.0.1", port: 0, tls: tls, enrollment: enrollment)
        configuration.requestTimeout = .seconds(requestTimeout)
        server = try await BootstrapServer.start(configuration, log: ControllerLog(log.sink))
    }

    func stop() async {
        await server.stop()
        await controller.stop()
    }

    /// Rewrites the token file (a new inode, as a Kubernetes Secret update makes).
    func setTokens(_ lines: [String]) throws {
        try (lines.joined(separator: "\n") + "\n").write(toFile: tokenFile, atomically: true, encoding: .utf8)
    }

    /// Credentials of an agent named `node` that reads its token from its own file.
    func credentials(node: String, token: String, log agentLog: LogLines = LogLines(),
                     retry: Backoff = Backoff(baseMs: 50, capMs: 500, floorMs: 20)) throws -> AgentCredentials {
        let dir = temporaryDirectory("agent-\(node)")
        try "\(token)\n".write(toFile: dir + "/token", atomically: true, encoding: .utf8)
        var settings = AgentCredentials.Settings(node: node, directory: dir + "/certs", caFile: caFile, tokenFile: dir + "/token",
                                                 bootstrapHost: "127.0.0.1", bootstrapPort: server.port, serverName: "127.0.0.1")
        settings.retry = retry
        return AgentCredentials(settings: settings, log: agentLog.sink)
    }

    /// An uplink whose TLS comes from `credentials`.
    func uplink(_ credentials: AgentCredentials, log uplinkLog: LogLines = LogLines()) throws -> AgentUplink {
        let node = credentials.settings.node
        return AgentUplink(endpoint: ControllerEndpoint(host: "127.0.0.1", port: controller.port, credentials: credentials.slot),
                           spool: try Spool(directory: temporaryDirectory("spool-\(node)"), agentId: node),
                           node: AgentIdentity(nodeName: node, agentVersion: "test", kernelRelease: "test"),
                           backoff: Backoff(baseMs: 20, capMs: 200, floorMs: 10), log: uplinkLog.sink)
    }

    /// One raw exchange with the bootstrap listener.
    func request(node: String, token: String, csr: [UInt8]) async throws -> [UInt8] {
        try await BootstrapClient.request(BootstrapRequest(nodeName: node, token: token, csr: csr),
                                          host: "127.0.0.1", port: server.port, serverName: "127.0.0.1",
                                          tls: try clientTLS())
    }

    func clientTLS() throws -> TLSContext {
        try TLSContext(configuration: .clientWithoutCertificate(trustRoots: .bytes(pki.ca.certificate.pem)))
    }
}

/// A P-256 CSR for `commonName` made by the agent code path.
func agentCSR(_ commonName: String) throws -> [UInt8] {
    try CertificateSigningRequest.make(commonName: commonName, key: try PrivateKey.generateP256()).der
}

/// The `openssl` tool, for CSRs our own code would never make (extensions, other keys).
enum OpenSSLCLI {
    static func run(_ arguments: [String]) throws -> Data {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        process.arguments = arguments
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw CocoaError(.executableLoad, userInfo: [NSLocalizedDescriptionKey: "openssl \(arguments.joined(separator: " ")) failed"])
        }
        return data
    }

    /// A DER CSR from `openssl req` for a new key of `algorithm` (e.g. "EC -pkeyopt ec_paramgen_curve:P-256").
    static func csr(subject: String, algorithm: [String] = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"],
                    extensions: [String] = []) throws -> [UInt8] {
        let dir = temporaryDirectory("openssl")
        return Array(try run(["req", "-new", "-nodes", "-keyout", dir + "/key.pem", "-subj", subject, "-outform", "DER"]
            + algorithm + extensions.flatMap { ["-addext", $0] }))
    }
}

/// The three parts of a DER SEQUENCE (for a CSR: the signed info, the algorithm, the signature).
func derSequenceParts(_ der: [UInt8]) -> [[UInt8]] {
    func header(_ bytes: ArraySlice<UInt8>) -> (headerLength: Int, length: Int) {
        let i = bytes.startIndex
        let first = Int(bytes[i + 1])
        if first < 0x80 { return (2, first) }
        let n = first & 0x7f
        return (2 + n, bytes[(i + 2)..<(i + 2 + n)].reduce(0) { $0 << 8 | Int($1) })
    }
    let outer = header(der[...])
    var rest = der[outer.headerLength...]
    var parts: [[UInt8]] = []
    while !rest.isEmpty {
        let h = header(rest)
        parts.append(Array(rest.prefix(h.headerLength + h.length)))
        rest = rest.dropFirst(h.headerLength + h.length)
    }
    return parts
}

/// A SEQUENCE of `parts` (lengths below 64 KiB).
func derSequence(_ parts: [[UInt8]]) -> [UInt8] {
    let body = parts.flatMap { $0 }
    let length: [UInt8] = body.count < 0x80 ? [UInt8(body.count)]
        : body.count < 0x100 ? [0x81, UInt8(body.count)] : [0x82, UInt8(body.count >> 8), UInt8(body.count & 0xff)]
    return [0x30] + length + body
}
