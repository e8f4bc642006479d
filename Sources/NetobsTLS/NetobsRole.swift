/// What a peer may do, carried in its certificate as an organizational unit: the subject has
/// `OU=netobs-agent`, `OU=netobs-operator`, `OU=netobs-consumer` (clients) or
/// `OU=netobs-controller` (the server). An OU was chosen over a URI SAN because every CA tool
/// (openssl, cert-manager, cfssl) sets it with one flag and `openssl x509 -subject` shows it.
/// A certificate with no netobs OU, or with two different ones, has no role.
public enum NetobsRole: String, Sendable, CaseIterable, Hashable {
    case agent
    case `operator`
    case consumer
    case controller

    /// The OU value that carries this role.
    public var organizationalUnit: String { "netobs-\(rawValue)" }

    /// The roles a client certificate may carry.
    public static let clientRoles: Set<NetobsRole> = [.agent, .operator, .consumer]

    init?(organizationalUnit: String) {
        guard organizationalUnit.hasPrefix("netobs-") else { return nil }
        self.init(rawValue: String(organizationalUnit.dropFirst("netobs-".count)))
    }

    /// The one role among a certificate's OUs; nil when none or ambiguous.
    static func from(organizationalUnits: [String]) -> NetobsRole? {
        let roles = Set(organizationalUnits.compactMap(NetobsRole.init(organizationalUnit:)))
        return roles.count == 1 ? roles.first : nil
    }

    var maskBit: Int { 1 << (NetobsRole.allCases.firstIndex(of: self)! + 1) }

    static func mask(_ roles: Set<NetobsRole>) -> Int { roles.reduce(0) { $0 | $1.maskBit } }
}
