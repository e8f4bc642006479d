/// Kubernetes node names: a DNS subdomain (RFC 1123, lowercase), at most 253 bytes. The name is
/// an agent's identity everywhere (certificate CN, Hello, log directory), so a bootstrapped
/// certificate is only ever issued for a name of this form.
public enum NodeName {
    /// Nil when `name` is a valid node name, else why not.
    public static func problem(_ name: String) -> String? {
        let bytes = Array(name.utf8)
        guard !bytes.isEmpty else { return "the node name is empty" }
        guard bytes.count <= 253 else { return "the node name is longer than 253 bytes" }
        for label in bytes.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false) {
            guard let first = label.first, let last = label.last else { return "the node name has an empty label" }
            guard label.count <= 63 else { return "a label of the node name is longer than 63 bytes" }
            guard label.allSatisfy({ isLowerAlnum($0) || $0 == UInt8(ascii: "-") }), isLowerAlnum(first), isLowerAlnum(last) else {
                return "the node name must be lowercase letters, digits, '-' and '.', each label starting and ending with a letter or digit"
            }
        }
        return nil
    }

    private static func isLowerAlnum(_ c: UInt8) -> Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(c) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(c)
    }
}
