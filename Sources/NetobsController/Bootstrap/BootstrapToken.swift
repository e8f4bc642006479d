import NetobsTLS

/// One line of the controller's `--bootstrap-token-file`: a token an agent presents to get its
/// certificate, and the node names it may get one for.
///
///     TOKEN SCOPE [expires=YYYY-MM-DDTHH:MM:SSZ] [# comment]
///
/// TOKEN is `ID.SECRET` as kubeadm's bootstrap tokens: 6 then 16 characters of `[a-z0-9]`. The ID
/// is public (logs name tokens by it); the SECRET is compared in constant time. SCOPE is
/// `node=NAME` (that node only), `node=PREFIX*` (names starting with PREFIX) or `node=*` (any).
public struct BootstrapToken: Sendable, CustomStringConvertible {
    public enum Scope: Sendable, Equatable, CustomStringConvertible {
        case node(String)
        case prefix(String)
        case anyNode

        public func allows(_ node: String) -> Bool {
            switch self {
            case .node(let name): node == name
            case .prefix(let prefix): node.hasPrefix(prefix)
            case .anyNode: true
            }
        }

        public var description: String {
            switch self {
            case .node(let name): "node=\(name)"
            case .prefix(let prefix): "node=\(prefix)*"
            case .anyNode: "node=*"
            }
        }
    }

    public let id: String
    let secret: [UInt8]
    public let scope: Scope
    /// Unix seconds; nil: until the line is removed.
    public let expires: Int64?

    public static let idLength = 6
    public static let secretLength = 16
    static let alphabet = Array("abcdefghijklmnopqrstuvwxyz0123456789".utf8)

    /// Splits `ID.SECRET`; nil when it is not of that form (the text is never echoed).
    public static func split(_ token: String) -> (id: String, secret: [UInt8])? {
        let bytes = Array(token.utf8)
        guard bytes.count == idLength + 1 + secretLength, bytes[idLength] == UInt8(ascii: "."),
              bytes[..<idLength].allSatisfy(alphabet.contains), bytes[(idLength + 1)...].allSatisfy(alphabet.contains)
        else { return nil }
        return (String(decoding: bytes[..<idLength], as: UTF8.self), Array(bytes[(idLength + 1)...]))
    }

    /// A fresh random token (`netobs certs token create`), from the system CSPRNG.
    public static func generate() -> String {
        var random = SystemRandomNumberGenerator()
        func chars(_ n: Int) -> String {
            String(decoding: (0..<n).map { _ in alphabet.randomElement(using: &random)! }, as: UTF8.self)
        }
        return chars(idLength) + "." + chars(secretLength)
    }

    /// The line as a file holds it; the secret is never part of `description`.
    public var description: String {
        "token \(id) \(scope)" + (expires.map { " expires=\(RFC3339.format($0))" } ?? "")
    }
}
