/// Normative limits of protocol version 1 (proto-spec/PROTOCOL.md, "Limits").
///
/// Every variable-length field has a limit here, and decoders check it *before* they allocate,
/// so a hostile peer cannot make us reserve memory it has not sent us.
public enum Limits {
    /// Largest payload either side accepts before the handshake completes. Hello and HelloAccept
    /// must fit; anything bigger before HelloAccept is hostile.
    public static let handshakePayload: UInt32 = 65_536
    /// Hard ceiling for any payload, whatever was negotiated.
    public static let absoluteMaxPayload: UInt32 = 33_554_432  // 32 MiB
    /// Lower bound a server may offer in HelloAccept (handshake frames must keep fitting).
    public static let minNegotiatedPayload: UInt32 = handshakePayload
    /// What a server offers when it has no reason to choose otherwise: room for a 16 MiB
    /// program object plus its metadata.
    public static let defaultNegotiatedPayload: UInt32 = 20_971_520  // 20 MiB

    // String classes (bytes of UTF-8, not characters).
    /// Kubernetes object and node names (DNS subdomain).
    public static let name = 253
    /// Short identifiers: capabilities, versions, keys, kinds, protocol and status filters.
    public static let label = 64
    /// Human-readable text: error messages, ack details.
    public static let text = 4_096
    /// Opaque option values.
    public static let optionValue = 4_096
    /// Kernel verifier logs can be long; they are what an operator needs when a load fails.
    public static let verifierLog = 1_048_576
    /// One flow or stream record.
    public static let record = 65_535
    /// One BPF object file in a ProgramBundle (also bounded by the negotiated payload size).
    public static let programObject = 16_777_216
    /// A PKCS#10 request (DER) and a certificate (DER) in the bootstrap exchange: an EC P-256
    /// CSR is about 250 bytes, an agent certificate under 1 KiB; 16 KiB leaves room for RSA
    /// and long names, far below the pre-handshake payload limit.
    public static let certificateRequest = 16_384
    public static let certificate = 16_384

    // Counts.
    public static let capabilities = 64
    public static let rules = 1_024
    public static let namespacesPerRule = 256
    public static let podsPerRule = 1_024
    public static let cgroupsPerRule = 1_024
    public static let portRangesPerRule = 256
    public static let options = 64
    public static let records = 65_536
    public static let counters = 128
    /// Agents in one AgentList.
    public static let agents = 65_536
    /// Kernel hooks in one agent's hook report (Hello, AgentStatus).
    public static let hooks = 64
    /// Table-1 metrics one hook can leave off.
    public static let metricsOffPerHook = 64
    /// Kernel objects whose version one AgentStatus lists.
    public static let programVersions = 16
    /// Clauses on each side (include, exclude) of a Subscribe's match.
    public static let matchClauses = 32
    /// Values one match clause ORs together.
    public static let matchValues = 64
    /// Tagged (optional) fields in one struct.
    public static let taggedFields = 32

    // Value ranges.
    public static let samplingPpmMax: UInt32 = 1_000_000
    public static let heartbeatIntervalMs: ClosedRange<UInt32> = 100...3_600_000
}

extension Limits {
    /// `s` cut to at most `maxBytes` of UTF-8 on a scalar boundary: how a sender fits a verifier log
    /// or an error text into its limit instead of failing to encode.
    public static func clip(_ s: String, toUTF8Bytes maxBytes: Int) -> String {
        guard s.utf8.count > maxBytes else { return s }
        var out = String.UnicodeScalarView()
        var used = 0
        for scalar in s.unicodeScalars {
            used += scalar.utf8.count
            if used > maxBytes { break }
            out.append(scalar)
        }
        return String(out)
    }
}
