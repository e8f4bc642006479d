/// Which TLS library a mapped file is, from its name: OpenSSL's libssl (probed), or another
/// library whose plaintext the probes do not see (reported, never silently missing).
public enum TLSLibrary: Sendable, Equatable {
    case openssl
    case unsupported(String)

    /// nil: not a TLS library.
    public static func classify(path: String) -> TLSLibrary? {
        let name = path.split(separator: "/").last.map(String.init) ?? path
        if name.hasPrefix("libssl.so.3") || name.hasPrefix("libssl.so.1.1") { return .openssl }
        for (prefix, label) in others where name.hasPrefix(prefix) { return .unsupported(label) }
        return nil
    }

    private static let others: [(String, String)] = [
        ("libgnutls.so", "gnutls"), ("libssl3.so", "nss"), ("libnss3.so", "nss"), ("libwolfssl.so", "wolfssl"),
        ("libmbedtls.so", "mbedtls"), ("libboringssl", "boringssl"), ("libs2n.so", "s2n"), ("libbearssl", "bearssl"),
        ("libssl.so.1.0", "openssl-1.0"),
    ]

    /// The files a process maps (`/proc/PID/maps` text), each once, in order of first mapping.
    public static func mappedFiles(maps: String) -> [String] {
        var seen = Set<String>(), files: [String] = []
        for line in maps.split(separator: "\n") {
            // address perms offset dev inode path: the path is the 6th field (may hold spaces).
            let fields = line.split(separator: " ", maxSplits: 5, omittingEmptySubsequences: true)
            guard fields.count == 6 else { continue }
            let path = fields[5].trimmingCharacters(in: " ")
            guard path.hasPrefix("/"), !path.hasSuffix("(deleted)"), seen.insert(path).inserted else { continue }
            files.append(path)
        }
        return files
    }
}

private extension Substring {
    func trimmingCharacters(in set: Character) -> String {
        var s = self[...]
        while s.first == set { s = s.dropFirst() }
        while s.last == set { s = s.dropLast() }
        return String(s)
    }
}
