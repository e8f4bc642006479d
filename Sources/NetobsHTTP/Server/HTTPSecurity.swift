import NetobsTLS

/// How the HTTP endpoint protects itself: mutual TLS (the default; clients need a consumer or
/// operator certificate), or plaintext, which is allowed only on a loopback address so that
/// nothing off the machine can reach it (the local demo, a local Prometheus).
public enum HTTPSecurity: Sendable {
    case mutualTLS(TLSContext)
    case plaintextLoopback

    /// The client roles the HTTP endpoint accepts.
    public static let clientRoles: Set<NetobsRole> = [.consumer, .operator]

    public struct Refusal: Error, CustomStringConvertible {
        public let description: String
    }

    /// Throws unless plaintext on `host` is acceptable: only the loopback literals 127.0.0.1
    /// and ::1 (not "localhost", which a resolver may map elsewhere, and not 127.0.0.0/8 at large).
    public static func checkPlaintext(host: String) throws(Refusal) {
        let bare = host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
        guard bare == "127.0.0.1" || bare == "::1" else {
            throw Refusal(description: "--http-plaintext-loopback serves without TLS, so it must listen on 127.0.0.1 or ::1, not \(host); drop the flag to serve with mutual TLS on \(host)")
        }
    }
}
