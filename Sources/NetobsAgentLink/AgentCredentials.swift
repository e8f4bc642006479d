import NIOCore
import NetobsTLS
import NetobsWire
import Synchronization

/// An agent's own certificate, kept valid without an operator: taken from its `--certs`
/// directory when usable (an agent certificate for this node, chaining to the pinned CA, not
/// expired), else requested from the controller's bootstrap listener with the bootstrap token
/// and a CSR for a fresh key; renewed the same way at 2/3 of its validity, retrying with backoff.
/// Each new certificate goes to `slot`, which moves the controller session over to it. The token
/// is read from its file at each request and never logged.
public final class AgentCredentials: Sendable {
    public struct Settings: Sendable {
        public var node: String
        /// Where the key and certificate are kept (`AgentCredentialFiles`).
        public var directory: String
        /// The CA the controller's certificate must chain to, and the agent's too.
        public var caFile: String
        /// A file whose first field (outside `#` comments) is the token `ID.SECRET`.
        public var tokenFile: String
        public var bootstrapHost: String
        public var bootstrapPort: Int
        /// The name the controller's certificate must carry.
        public var serverName: String
        /// Share of the validity after which a certificate is renewed.
        public var renewAfter = 2.0 / 3.0
        /// Waits between failed requests.
        public var retry = Backoff(baseMs: 1_000, capMs: 300_000)

        public init(node: String, directory: String, caFile: String, tokenFile: String,
                    bootstrapHost: String, bootstrapPort: Int, serverName: String) {
            self.node = node
            self.directory = directory
            self.caFile = caFile
            self.tokenFile = tokenFile
            self.bootstrapHost = bootstrapHost
            self.bootstrapPort = bootstrapPort
            self.serverName = serverName
        }
    }

    public let slot = TLSContextSlot()
    public let settings: Settings
    private let files: AgentCredentialFiles
    private let log: @Sendable (String) -> Void
    private let current = Mutex<Certificate?>(nil)
    private let keeper = Mutex<Task<Void, Never>?>(nil)

    public init(settings: Settings, log: @escaping @Sendable (String) -> Void) {
        self.settings = settings
        self.files = AgentCredentialFiles(directory: settings.directory)
        self.log = log
    }

    /// The certificate in use (nil until there is one).
    public var certificate: Certificate? { current.withLock { $0 } }

    /// Takes the stored certificate when it is usable, then keeps one valid in the background.
    /// Throws when the CA cannot be read, or when there is no usable certificate and no token.
    public func start() throws {
        let roots = try Certificate.all(fromFile: settings.caFile)
        guard !roots.isEmpty else { throw TLSError(.configuration, "CA file \(settings.caFile) holds no certificate") }
        switch files.load(node: settings.node, roots: roots) {
        case .success(let pair):
            try use(pair, how: "using the stored agent certificate in \(files.directory)")
        case .failure(let unusable):
            _ = try readToken()  // no certificate and no token: say so now, not in a retry loop
            log("\(unusable); asking the controller for a certificate for node \(settings.node)")
        }
        let task = Task { [self] in await keepValid() }
        keeper.withLock { $0 = task }
    }

    public func stop() {
        keeper.withLock { $0 }?.cancel()
    }

    /// Requests a certificate now, stores it and puts it to use.
    @discardableResult
    public func renew() async throws -> Certificate {
        let token = try readToken()
        let key = try PrivateKey.generateP256()
        let csr = try CertificateSigningRequest.make(commonName: settings.node, key: key)
        let tls = try TLSContext(configuration: .clientWithoutCertificate(trustRoots: .file(settings.caFile)))
        let der = try await BootstrapClient.request(
            BootstrapRequest(nodeName: settings.node, token: token, csr: csr.der),
            host: settings.bootstrapHost, port: settings.bootstrapPort, serverName: settings.serverName, tls: tls)
        let pair = AgentCredentialFiles.Pair(certificate: try Certificate(der: der), key: key)
        if let problem = AgentCredentialFiles.problem(pair, node: settings.node, roots: try Certificate.all(fromFile: settings.caFile)) {
            throw TLSError(.configuration, "the controller returned a certificate this agent cannot use: \(problem)")
        }
        try files.store(pair)
        try use(pair, how: "got a new agent certificate from the controller, stored in \(files.directory)")
        return pair.certificate
    }

    /// When the certificate in use is due for renewal, unix seconds (nil: there is none).
    public var renewalDue: Double? {
        certificate.map { Double($0.notBefore) + Double($0.notAfter - $0.notBefore) * settings.renewAfter }
    }

    private func use(_ pair: AgentCredentialFiles.Pair, how: String) throws {
        let context = try TLSContext(configuration: .client(trustRoots: .file(settings.caFile),
                                                            certificateChain: .bytes(pair.certificate.pem),
                                                            privateKey: .bytes(pair.key.pkcs8PEM)))
        current.withLock { $0 = pair.certificate }
        log("\(how): node \(settings.node), serial \(pair.certificate.serialHex), valid until "
            + "\(RFC3339.format(pair.certificate.notAfter)), renewal from \(RFC3339.format(Int64(renewalDue ?? 0)))")
        slot.set(context)
    }

    /// Sleeps until renewal is due, renews, and retries with backoff on failure; drops a
    /// certificate that expired meanwhile (the session could not use it any more).
    private func keepValid() async {
        var backoff = settings.retry
        var lastFailure: String?
        while !Task.isCancelled {
            let now = Double(WallClockNs.now()) / 1e9
            if let due = renewalDue, due > now {
                try? await Task.sleep(for: .milliseconds(Int64(min(due - now, 86_400) * 1000) + 1))
                continue
            }
            do {
                try await renew()
                backoff.reset()
                lastFailure = nil
            } catch {
                let text = "\(error)"
                let delay = backoff.nextDelayMs()
                if text != lastFailure {
                    log("cannot get an agent certificate for node \(settings.node): \(text) (retrying, next in \(delay) ms)")
                }
                lastFailure = text
                dropIfExpired()
                try? await Task.sleep(for: .milliseconds(Int64(delay)))
            }
        }
    }

    private func dropIfExpired() {
        guard let certificate, Double(certificate.notAfter) <= Double(WallClockNs.now()) / 1e9 else { return }
        current.withLock { $0 = nil }
        log("the agent certificate (serial \(certificate.serialHex)) expired at \(RFC3339.format(certificate.notAfter)) before it could be renewed")
        slot.set(nil)
    }

    /// The first field of the token file's first non-comment line.
    private func readToken() throws -> String {
        let text = String(decoding: try FileBytes.read(settings.tokenFile, what: "bootstrap token file", limit: 64 << 10), as: UTF8.self)
        for line in text.split(whereSeparator: \.isNewline) {
            if let field = line.prefix(while: { $0 != "#" }).split(whereSeparator: \.isWhitespace).first {
                return String(field)
            }
        }
        throw TLSError(.configuration, "bootstrap token file \(settings.tokenFile) holds no token")
    }
}
