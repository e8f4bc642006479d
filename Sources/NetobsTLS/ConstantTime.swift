import COpenSSL

/// Comparing secrets without leaking, through timing, how long a matching prefix was.
public enum ConstantTime {
    /// True when `a` and `b` are the same bytes. The time depends on the lengths only (which are
    /// public for the secrets compared here: a token's secret has a fixed length).
    public static func equal(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        guard !a.isEmpty else { return true }
        return a.withUnsafeBytes { x in b.withUnsafeBytes { y in CRYPTO_memcmp(x.baseAddress, y.baseAddress, x.count) == 0 } }
    }
}
