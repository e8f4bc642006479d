extension ProgramBundle {
    /// The kernel objects agents load, each hot-swapped on its own from a bundle whose signed
    /// `name` is the object's: `l4` (TCP/UDP flows) and `l7` (HTTP/DNS parsing).
    public static let knownObjects = ["l4", "l7"]
}

/// The version of one kernel object an agent runs (AgentStatus tagged field 1).
public struct ProgramVersion: Sendable, Hashable {
    /// The object, e.g. "l4", "l7" (ProgramBundle.knownObjects; a newer agent's object as it is).
    public var name: String
    /// The bundle version it loaded.
    public var version: String

    public init(name: String, version: String) {
        self.name = name
        self.version = version
    }
}

extension ProgramVersion {
    // name(1) version(1) tagged(1)
    static let minEncodedSize = 3

    /// Fields in wire order, then the struct's own (empty) tagged section, like HookStatus.
    func encode(into w: inout ByteWriter, _ field: String) throws(WireError) {
        try w.string(name, limit: Limits.label, field: field + ".name")
        try w.string(version, limit: Limits.label, field: field + ".version")
        w.noTaggedFields()
    }

    init(from r: inout ByteReader, _ field: String) throws(WireError) {
        name = try r.string(limit: Limits.label, field + ".name")
        version = try r.string(limit: Limits.label, field + ".version")
        try r.taggedFields(field + ".tagged")
    }
}

extension [TaggedField] {
    /// Appends `versions` under `tag` when there are any: an agent that runs only embedded objects
    /// encodes exactly as before the field existed.
    mutating func appendProgramVersions(_ versions: [ProgramVersion], tag: UInt32, _ field: String) throws(WireError) {
        guard !versions.isEmpty else { return }
        var v = ByteWriter()
        try v.list(versions, limit: Limits.programVersions, field) { p, w throws(WireError) in try p.encode(into: &w, field) }
        append((tag, v.bytes))
    }
}

extension ByteReader {
    mutating func programVersions(_ field: String) throws(WireError) -> [ProgramVersion] {
        try list(limit: Limits.programVersions, minElementSize: ProgramVersion.minEncodedSize, field) { r throws(WireError) in
            try ProgramVersion(from: &r, field)
        }
    }
}

extension AgentStatus {
    /// The version of object `name` the agent reported loading, "" while it runs the one built into
    /// it. A name listed twice counts once, the last. For `l4`, a controller that predates tagged
    /// field 1 said it in `programVersion` alone.
    public func programVersion(of name: String) -> String {
        if let v = programVersions.last(where: { $0.name == name }) { return v.version }
        return name == "l4" ? programVersion : ""
    }

    /// Records that the agent loaded `version` of object `name` (kept sorted by name). `l4` also
    /// sets `programVersion`, which keeps meaning the l4 version for consumers that predate objects.
    public mutating func setProgramVersion(_ version: String, of name: String) {
        programVersions.removeAll { $0.name == name }
        let at = programVersions.firstIndex { $0.name > name } ?? programVersions.endIndex
        programVersions.insert(ProgramVersion(name: name, version: version), at: at)
        if name == "l4" { programVersion = version }
    }
}
