/// Segment files of an agent's log: `batches-<first>.log`, `<first>` in 20 digits so that names
/// sort as numbers. A segment named N holds entries with sequences ≥ N, and every sequence
/// below N is settled (stored in an earlier segment, or dropped by retention): the name of an
/// agent's last segment keeps the highest sequence known even when every entry is gone.
enum SegmentName {
    static let prefix = "batches-"
    static let suffix = ".log"
    /// The single-file log of earlier versions, turned into a segment when found.
    static let legacy = "batches.log"

    static func name(_ first: UInt64) -> String {
        let digits = String(first)
        return prefix + String(repeating: "0", count: max(0, 20 - digits.count)) + digits + suffix
    }

    static func first(of name: String) -> UInt64? {
        guard name.hasPrefix(prefix), name.hasSuffix(suffix) else { return nil }
        let digits = name.dropFirst(prefix.count).dropLast(suffix.count)
        guard !digits.isEmpty, digits.allSatisfy(\.isASCII), digits.allSatisfy(\.isNumber) else { return nil }
        return UInt64(digits)
    }
}
