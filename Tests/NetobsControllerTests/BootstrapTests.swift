import Foundation
import Testing
import NetobsAgentLink
import NetobsController
import NetobsTLS
import NetobsWire

/// Agents without a certificate get one from the controller's bootstrap listener (real TLS on
/// loopback), then connect with mutual TLS under their own name.
@Suite("bootstrap: per-node agent certificates from a token", .serialized)
struct BootstrapTests {
    static let tokenA = "aaaaaa.0123456789abcdef"
    static let tokenB = "bbbbbb.0123456789abcdef"

    @Test("two agents bootstrap, each gets its own certificate (0600 files), and their batches are stored under their names")
    func twoAgents() async throws {
        let lab = try await BootstrapLab(lines: ["# per-node tokens", "\(Self.tokenA) node=node-a", "\(Self.tokenB) node=node-b  # second"])
        var uplinks: [AgentUplink] = []
        for (node, token) in [("node-a", Self.tokenA), ("node-b", Self.tokenB)] {
            let credentials = try lab.credentials(node: node, token: token)
            try credentials.start()
            let uplink = try lab.uplink(credentials)
            uplink.start()
            for i in 1...5 { #expect(try uplink.submit(records: records(batch: i, count: 3)) == UInt64(i)) }
            #expect(await eventually { credentials.certificate != nil })
            let certificate = try #require(credentials.certificate)
            #expect(certificate.commonName == node)
            #expect(certificate.role == .agent)
            #expect(certificate.clientVerificationFailure(roots: [lab.pki.ca.certificate]) == nil)
            let identity = PeerIdentity(certificate: certificate)
            #expect(identity.dnsNames.isEmpty && identity.ipAddresses.isEmpty && identity.uris.isEmpty)
            let files = AgentCredentialFiles(directory: credentials.settings.directory)
            for path in [files.certificatePath, files.keyPath] {
                let mode = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int
                #expect(mode == 0o600, "\(path)")
            }
            uplinks.append(uplink)
        }
        for uplink in uplinks { #expect(await uplink.drain(timeoutMs: 15_000)) }
        for node in ["node-a", "node-b"] {
            let status = try #require(lab.controller.agents.status(of: node))
            #expect(status.identity == node)
            #expect(status.ackedSequence == 5)
        }
        #expect(lab.controller.counters.storedRecords == 30)
        // The token's secret appears in no log line, the ids do.
        #expect(!lab.log.lines.contains { $0.contains("0123456789abcdef") })
        #expect(lab.log.lines.contains { $0.contains("issued an agent certificate for node node-a (token aaaaaa") })
        for uplink in uplinks { await uplink.stop() }
        await lab.stop()
    }

    @Test("a stored certificate is reused after a restart; one for another node is replaced")
    func storedCertificate() async throws {
        let lab = try await BootstrapLab(lines: ["\(Self.tokenA) node=node-*"])
        let first = try lab.credentials(node: "node-a", token: Self.tokenA)
        try first.start()
        #expect(await eventually { first.certificate != nil })
        let serial = try #require(first.certificate).serialHex
        first.stop()
        // Same directory again: no request, the same certificate.
        let log = LogLines()
        let again = AgentCredentials(settings: first.settings, log: log.sink)
        try again.start()
        #expect(again.certificate?.serialHex == serial)
        #expect(log.lines.contains { $0.contains("using the stored agent certificate") })
        again.stop()
        // The same directory for another node name: refused locally, a new certificate for the new name.
        var renamed = first.settings
        renamed.node = "node-z"
        let other = AgentCredentials(settings: renamed, log: log.sink)
        try other.start()
        #expect(log.lines.contains { $0.contains("is for \"node-a\", not node \"node-z\"") })
        #expect(await eventually { other.certificate?.commonName == "node-z" })
        other.stop()
        await lab.stop()
    }

    @Test("a token bound to node A cannot get node B's certificate; unknown, removed and expired tokens are refused")
    func tokenRules() async throws {
        let lab = try await BootstrapLab(lines: ["\(Self.tokenA) node=node-a", "\(Self.tokenB) node=node-b",
                                                 "cccccc.0123456789abcdef node=* expires=2020-01-01T00:00:00Z"])
        func refusal(node: String, token: String) async -> BootstrapClient.Failure? {
            do {
                _ = try await lab.request(node: node, token: token, csr: try agentCSR(node))
                return nil
            } catch {
                return error as? BootstrapClient.Failure
            }
        }
        let wrongNode = try #require(await refusal(node: "node-b", token: Self.tokenA))
        #expect(wrongNode.code == .unauthorized)
        #expect(wrongNode.description.contains("limited to node=node-a: it cannot get a certificate for node \"node-b\""))
        let unknown = try #require(await refusal(node: "node-a", token: "zzzzzz.0123456789abcdef"))
        #expect(unknown.code == .unauthorized && unknown.description.contains("unknown bootstrap token"))
        let wrongSecret = try #require(await refusal(node: "node-a", token: "aaaaaa.0123456789abcdee"))
        #expect(wrongSecret.code == .unauthorized && wrongSecret.description.contains("unknown bootstrap token"))
        let expired = try #require(await refusal(node: "node-a", token: "cccccc.0123456789abcdef"))
        #expect(expired.code == .unauthorized && expired.description.contains("expired at 2020-01-01T00:00:00Z"))
        let malformed = try #require(await refusal(node: "node-a", token: "not-a-token"))
        #expect(malformed.code == .unauthorized && malformed.description.contains("malformed"))
        #expect(await refusal(node: "node-b", token: Self.tokenB) == nil)

        // Revocation: the line goes, the next request is refused (no restart, no signal).
        try lab.setTokens(["\(Self.tokenA) node=node-a"])
        let removed = try #require(await refusal(node: "node-b", token: Self.tokenB))
        #expect(removed.code == .unauthorized && removed.description.contains("unknown bootstrap token"))
        #expect(await refusal(node: "node-a", token: Self.tokenA) == nil)
        // An agent with a refused token says why, keeps no files and keeps trying.
        let agentLog = LogLines()
        let credentials = try lab.credentials(node: "node-b", token: Self.tokenA, log: agentLog)
        try credentials.start()
        #expect(await eventually { agentLog.lines.contains { $0.contains("cannot get an agent certificate for node node-b") && $0.contains("limited to node=node-a") } })
        #expect(credentials.certificate == nil)
        #expect(!FileManager.default.fileExists(atPath: AgentCredentialFiles(directory: credentials.settings.directory).certificatePath))
        #expect(!agentLog.lines.contains { $0.contains("0123456789abcdef") })
        credentials.stop()
        await lab.stop()
    }

    @Test("CSRs are checked: signature by its own key, subject exactly CN=node, no extensions, P-256 or Ed25519 keys")
    func csrRules() async throws {
        let lab = try await BootstrapLab(lines: ["\(Self.tokenA) node=*"])
        func rejection(_ csr: [UInt8], node: String = "node-a") async -> String? {
            do {
                _ = try await lab.request(node: node, token: Self.tokenA, csr: csr)
                return nil
            } catch let failure as BootstrapClient.Failure {
                #expect(failure.code == .rejected, "\(failure)")
                return failure.description
            } catch {
                return "\(error)"
            }
        }
        // Signed by another key than the one it presents: the info of one CSR, the signature of another.
        let mine = derSequenceParts(try agentCSR("node-a"))
        let theirs = derSequenceParts(try agentCSR("node-a"))
        let spliced = derSequence([mine[0], theirs[1], theirs[2]])
        #expect(await rejection(spliced)?.contains("signature does not verify") == true)
        #expect(await rejection(try agentCSR("node-b"))?.contains("CSR is for CN=node-b but the request names node \"node-a\"") == true)
        let withSAN = try OpenSSLCLI.csr(subject: "/CN=node-a", extensions: ["subjectAltName=DNS:controller.example", "basicConstraints=critical,CA:TRUE"])
        #expect(await rejection(withSAN)?.contains("requests extensions") == true)
        let withOU = try OpenSSLCLI.csr(subject: "/O=netobs/OU=netobs-operator/CN=node-a")
        #expect(await rejection(withOU)?.contains("subject must be exactly CN=node-a") == true)
        let rsa = try OpenSSLCLI.csr(subject: "/CN=node-a", algorithm: ["-newkey", "rsa:2048"])
        #expect(await rejection(rsa)?.contains("RSA") == true)
        #expect(await rejection([0x30, 0x03, 0x02, 0x01, 0x00])?.contains("not one DER PKCS#10") == true)
        #expect(await rejection(try agentCSR("Node_A"), node: "Node_A")?.contains("lowercase") == true)
        // Ed25519 from another implementation is accepted; the certificate carries only what the controller sets.
        let ed25519 = try OpenSSLCLI.csr(subject: "/CN=node-a", algorithm: ["-newkey", "ed25519"])
        let der = try await lab.request(node: "node-a", token: Self.tokenA, csr: ed25519)
        let certificate = try Certificate(der: der)
        #expect(certificate.commonName == "node-a" && certificate.role == .agent)
        #expect(certificate.subject == "CN=node-a,OU=netobs-agent,O=netobs")
        #expect(certificate.notAfter - certificate.notBefore == 3_600 + 300)
        #expect(certificate.clientVerificationFailure(roots: [lab.pki.ca.certificate]) == nil)
        await lab.stop()
    }

    @Test("an uplink waiting for its first certificate connects as soon as it arrives, not after its backoff")
    func firstCertificateWakesTheUplink() async throws {
        let lab = try await BootstrapLab(lines: [])
        let credentials = try lab.credentials(node: "node-a", token: Self.tokenA)
        try credentials.start()
        let uplinkLog = LogLines()
        let uplink = AgentUplink(endpoint: ControllerEndpoint(host: "127.0.0.1", port: lab.controller.port, credentials: credentials.slot),
                                 spool: try Spool(directory: temporaryDirectory("spool"), agentId: "node-a"),
                                 node: AgentIdentity(nodeName: "node-a", agentVersion: "t", kernelRelease: "t"),
                                 backoff: Backoff(baseMs: 60_000, capMs: 60_000, floorMs: 60_000), log: uplinkLog.sink)
        uplink.start()
        #expect(await eventually { uplinkLog.lines.contains { $0.contains("no certificate yet") } })
        try lab.setTokens(["\(Self.tokenA) node=node-a"])  // the token is granted now
        #expect(await eventually(5) { uplink.stats.sessions == 1 })
        credentials.stop()
        await uplink.stop()
        await lab.stop()
    }

    @Test("renewal: a short-lived certificate is renewed before it expires and the session moves to it")
    func renewal() async throws {
        let lab = try await BootstrapLab(lines: ["\(Self.tokenA) node=node-a"], lifetime: 6)
        let uplinkLog = LogLines()
        let credentialsLog = LogLines()
        let credentials = try lab.credentials(node: "node-a", token: Self.tokenA, log: credentialsLog)
        try credentials.start()
        let uplink = try lab.uplink(credentials, log: uplinkLog)
        uplink.start()
        // On failure the three logs say which side stalled.
        let logs = { Comment(rawValue: "sessions \(uplink.stats.sessions)\nagent credentials:\n\(credentialsLog.lines.joined(separator: "\n"))"
            + "\nuplink:\n\(uplinkLog.lines.joined(separator: "\n"))\ncontroller:\n\(lab.log.lines.joined(separator: "\n"))") }
        #expect(await eventually { uplink.stats.sessions == 1 }, logs())
        let first = try #require(credentials.certificate)
        #expect(first.notAfter - Int64(Date().timeIntervalSince1970) <= 6)
        // Renewed at 2/3 of 6 s; the uplink reconnects with the new certificate.
        #expect(await eventually(10) { credentials.certificate.map { $0.serialHex != first.serialHex } ?? false })
        #expect(await eventually(5) { uplink.stats.sessions == 2 }, logs())
        #expect(uplinkLog.lines.contains { $0.contains("new certificate: reconnecting") })
        var sequence: UInt64 = 0
        for i in 1...3 { sequence = try #require(try uplink.submit(records: records(batch: i, count: 2))) }
        #expect(await uplink.drain(timeoutMs: 10_000))
        #expect(lab.controller.agents.status(of: "node-a")?.ackedSequence == sequence)
        // Past the first certificate's end: the agent is still connected, on its third or later one.
        try await Task.sleep(for: .seconds(Double(first.notAfter) - Date().timeIntervalSince1970 + 1))
        #expect(lab.controller.agents.status(of: "node-a")?.connected == true)
        #expect(!lab.log.lines.contains { $0.contains("its certificate expired") })
        credentials.stop()
        await uplink.stop()
        await lab.stop()
    }

    @Test("a session ends when its certificate expires (a revoked agent cannot outlive its certificate)")
    func sessionEndsAtExpiry() async throws {
        let pki = try PKI()
        let log = LogLines()
        let controller = try await startController(pki, data: temporaryDirectory("data"), log: log)
        var request = CertificateRequest(commonName: "node-x", usage: .client, role: .agent)
        request.notAfter = 2
        let pair = try CertificateFactory.issue(request, by: pki.ca)
        let tls = try TLSContext(configuration: .client(trustRoots: .bytes(pki.ca.certificate.pem),
                                                        certificateChain: .bytes(pair.0.pem), privateKey: .bytes(pair.1.pkcs8PEM)))
        let uplinkLog = LogLines()
        let uplink = AgentUplink(endpoint: ControllerEndpoint(host: "127.0.0.1", port: controller.port, tls: tls),
                                 spool: try Spool(directory: temporaryDirectory("spool"), agentId: "node-x"),
                                 node: AgentIdentity(nodeName: "node-x", agentVersion: "t", kernelRelease: "t"),
                                 backoff: Backoff(baseMs: 200, capMs: 1_000, floorMs: 100), log: uplinkLog.sink)
        uplink.start()
        #expect(await eventually { controller.agents.status(of: "node-x")?.connected == true })
        #expect(await eventually(8) { log.lines.contains { $0.contains("its certificate expired; closing the session") } })
        #expect(await eventually { controller.agents.status(of: "node-x")?.connected == false })
        #expect(await eventually { uplinkLog.lines.contains { $0.contains("the client certificate expired") } })
        await uplink.stop()
        await controller.stop()
    }
}
