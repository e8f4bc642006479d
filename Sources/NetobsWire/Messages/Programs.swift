/// A signed, versioned BPF object for agents to load (or hot-swap to).
public struct ProgramBundle: WireMessage {
    public static let type = MessageType.programBundle
    public static let version: UInt16 = 1
    public static let digestSize = 32
    public static let signatureSize = 64

    public var name: String
    public var version: String
    /// SHA-256 of `object`.
    public var sha256: [UInt8]
    /// Ed25519 signature over `signingInput` by the key `signerKeyId`.
    public var signature: [UInt8]
    public var signerKeyId: String
    /// The ELF object; at most 16 MiB and never more than the negotiated payload size allows.
    public var object: [UInt8]
    /// Tagged field 0 (u8, operator → controller only, outside the signature: it is rollout policy,
    /// not content): the percentage of agents that get the bundle first, as canaries.
    public var canaryPercent: UInt8?

    public init(name: String, version: String, sha256: [UInt8], signature: [UInt8], signerKeyId: String,
                object: [UInt8], canaryPercent: UInt8? = nil) {
        self.name = name
        self.version = version
        self.sha256 = sha256
        self.signature = signature
        self.signerKeyId = signerKeyId
        self.object = object
        self.canaryPercent = canaryPercent
    }

    /// The bytes the signature covers (PROTOCOL.md §6.5). Signing the digest rather than the object
    /// keeps signing cheap and binds name, version and key id, so a valid object cannot be replayed
    /// under another name or version.
    public var signingInput: [UInt8] {
        var w = ByteWriter(capacity: 64)
        w.raw(Array("netobs-bundle-v1".utf8))
        w.u8(0)
        // Lengths are within the limits for any bundle that was decoded or will be encoded.
        for s in [name, version, signerKeyId] {
            w.uvarint(UInt32(truncatingIfNeeded: s.utf8.count))
            w.raw(s.utf8)
        }
        w.raw(sha256)
        return w.bytes
    }

    public func encode(into w: inout ByteWriter) throws(WireError) {
        try w.string(name, limit: Limits.label, field: "program_bundle.name")
        try w.string(version, limit: Limits.label, field: "program_bundle.version")
        try w.fixed(sha256, size: Self.digestSize, "program_bundle.sha256")
        try w.fixed(signature, size: Self.signatureSize, "program_bundle.signature")
        try w.string(signerKeyId, limit: Limits.label, field: "program_bundle.signer_key_id")
        try w.bytes(object, limit: Limits.programObject, field: "program_bundle.object")
        if let canaryPercent { try check((1...100).contains(canaryPercent), "program_bundle.canary_percent", canaryPercent) }
        try w.taggedFields(canaryPercent.map { [(0, [$0])] } ?? [], "program_bundle.tagged")
    }

    public init(from r: inout ByteReader) throws(WireError) {
        name = try r.string(limit: Limits.label, "program_bundle.name")
        version = try r.string(limit: Limits.label, "program_bundle.version")
        sha256 = try r.fixedBytes(Self.digestSize, "program_bundle.sha256")
        signature = try r.fixedBytes(Self.signatureSize, "program_bundle.signature")
        signerKeyId = try r.string(limit: Limits.label, "program_bundle.signer_key_id")
        object = try r.bytes(limit: Limits.programObject, "program_bundle.object")
        var canary: UInt8?
        try r.taggedFields("program_bundle.tagged") { tag, v throws(WireError) in
            guard tag == 0 else { return false }
            let p = try v.u8("program_bundle.canary_percent")
            try check((1...100).contains(p), "program_bundle.canary_percent", p)
            canary = p
            return true
        }
        canaryPercent = canary
    }
}

/// What became of a bundle on an agent.
public enum ProgramState: UInt8, Sendable, Hashable, CaseIterable {
    /// Verified, loaded and attached; now producing data.
    case loaded = 1
    /// Refused (bad digest or signature, or the verifier said no); the previous version still runs.
    case rejected = 2
    /// Loaded, then backed out (e.g. it failed its health check); the previous version runs again.
    case rolledBack = 3
}

/// An agent's report on a program bundle: the reply to ProgramBundle, or unsolicited on rollback.
public struct ProgramStatus: WireMessage {
    public static let type = MessageType.programStatus
    public static let version: UInt16 = 1

    public var name: String
    public var version: String
    public var state: ProgramState
    /// The kernel verifier's log (possibly truncated by the agent to fit the limit).
    public var verifierLog: String
    /// Tagged field 0: what went wrong, when something did.
    public var error: String?

    public init(name: String, version: String, state: ProgramState, verifierLog: String = "",
                error: String? = nil) {
        self.name = name
        self.version = version
        self.state = state
        self.verifierLog = verifierLog
        self.error = error
    }

    public func encode(into w: inout ByteWriter) throws(WireError) {
        try w.string(name, limit: Limits.label, field: "program_status.name")
        try w.string(version, limit: Limits.label, field: "program_status.version")
        w.u8(state.rawValue)
        try w.string(verifierLog, limit: Limits.verifierLog, field: "program_status.verifier_log")
        var tagged: [TaggedField] = []
        if let error {
            guard error.utf8.count <= Limits.text else {
                throw .lengthLimitExceeded(field: "program_status.error", length: UInt64(error.utf8.count),
                                           limit: Limits.text)
            }
            tagged.append((0, Array(error.utf8)))
        }
        try w.taggedFields(tagged, "program_status.tagged")
    }

    public init(from r: inout ByteReader) throws(WireError) {
        name = try r.string(limit: Limits.label, "program_status.name")
        version = try r.string(limit: Limits.label, "program_status.version")
        let rawState = try r.u8("program_status.state")
        guard let state = ProgramState(rawValue: rawState) else {
            throw .invalidValue(field: "program_status.state", value: UInt64(rawState))
        }
        self.state = state
        verifierLog = try r.string(limit: Limits.verifierLog, "program_status.verifier_log")
        var error: String?
        try r.taggedFields("program_status.tagged") { tag, v throws(WireError) in
            guard tag == 0 else { return false }
            error = try v.rest(limit: Limits.text, "program_status.error")
            return true
        }
        self.error = error
    }
}
