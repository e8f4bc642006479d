import NetobsTLS
import NetobsWire

/// The controller's answer to a BootstrapRequest: check the token for the node, check the CSR,
/// sign a short-lived agent certificate for the CSR's key. The certificate is built from the node
/// name alone (`CN=<node>`, `OU=netobs-agent`, clientAuth): nothing else of the request reaches it.
public struct AgentEnrollment: Sendable {
    public struct Refusal: Error, Equatable, CustomStringConvertible {
        public let code: ErrorCode
        public let description: String
        /// The token's id when it was known: for the log, never sent.
        public let tokenId: String?
    }

    public let authority: IssuingCA
    public let tokens: BootstrapTokenStore
    /// Seconds an issued certificate is valid from now.
    public let lifetime: Int

    public init(authority: IssuingCA, tokens: BootstrapTokenStore, lifetime: Int) {
        self.authority = authority
        self.tokens = tokens
        self.lifetime = lifetime
    }

    /// Clock skew between nodes: a certificate is valid from this long before it was issued (a
    /// tenth of its lifetime, at most 5 minutes, so the agent's renewal point stays near 2/3).
    public var backdate: Int { min(300, lifetime / 10) }

    /// The signed certificate and the token that allowed it, or why not.
    public func enroll(_ request: BootstrapRequest, now: Int64) -> Result<(Certificate, tokenId: String), Refusal> {
        let node = request.nodeName
        if let problem = NodeName.problem(node) {
            return .failure(Refusal(code: .rejected, description: "node \"\(node)\": \(problem)", tokenId: nil))
        }
        let tokenId: String
        switch tokens.authorize(token: request.token.value, node: node, now: now) {
        case .refused(let reason, let id):
            return .failure(Refusal(code: .unauthorized, description: reason, tokenId: id))
        case .granted(let id, _):
            tokenId = id
        }
        func rejected(_ why: String) -> Result<(Certificate, tokenId: String), Refusal> {
            .failure(Refusal(code: .rejected, description: why, tokenId: tokenId))
        }
        let csr: CertificateSigningRequest
        do {
            csr = try CertificateSigningRequest(der: request.csr)
        } catch {
            return rejected("the CSR is not one DER PKCS#10 request")
        }
        guard csr.signatureVerifies else {
            return rejected("the CSR's signature does not verify with the key it carries")
        }
        let subject = csr.subjectEntries
        guard subject.count == 1, subject[0].field == "CN" else {
            let shown = subject.map { "\($0.field)=\($0.value)" }.joined(separator: ",")
            return rejected("the CSR subject must be exactly CN=\(node), not \"\(Limits.clip(shown, toUTF8Bytes: 300))\"")
        }
        guard subject[0].value == node else {
            return rejected("the CSR is for CN=\(Limits.clip(subject[0].value, toUTF8Bytes: 253)) but the request names node \"\(node)\"")
        }
        guard csr.attributeCount == 0 else {
            return rejected("the CSR requests extensions or attributes; send none: the controller sets them")
        }
        switch csr.keyAlgorithm {
        case .p256, .ed25519: break
        case .other(let algorithm): return rejected("the CSR key is \(algorithm); use EC P-256 or Ed25519")
        }
        do {
            let certificate = try authority.issueClient(commonName: node, role: .agent, keyOf: csr,
                                                        lifetime: lifetime, backdate: backdate)
            return .success((certificate, tokenId))
        } catch {
            return .failure(Refusal(code: .internal, description: "cannot sign the certificate", tokenId: tokenId))
        }
    }
}
