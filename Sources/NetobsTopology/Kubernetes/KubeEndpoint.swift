import Foundation
import NetobsTLS
import Yams

/// Where the API server is and how to authenticate to it: in-cluster (the pod's service
/// account) or from a kubeconfig file. The server certificate is always verified against the
/// cluster CA; there is no way to turn that off.
public struct KubeEndpoint: Sendable {
    public enum Credentials: Sendable {
        /// A bearer token, read from `file` before each request (projected tokens rotate), or given.
        case tokenFile(String)
        case token(String)
        /// A client certificate (mutual TLS).
        case clientCertificate(certificate: PEMSource, key: PEMSource)
    }

    public var host: String
    public var port: Int
    public var certificateAuthority: PEMSource
    public var credentials: Credentials

    public init(host: String, port: Int, certificateAuthority: PEMSource, credentials: Credentials) {
        self.host = host
        self.port = port
        self.certificateAuthority = certificateAuthority
        self.credentials = credentials
    }

    public static let serviceAccountDirectory = "/var/run/secrets/kubernetes.io/serviceaccount"

    /// The pod's own service account, and the API server from KUBERNETES_SERVICE_HOST/PORT.
    public static func inCluster(environment: [String: String] = ProcessInfo.processInfo.environment,
                                 directory: String = serviceAccountDirectory) throws -> KubeEndpoint {
        guard let host = environment["KUBERNETES_SERVICE_HOST"], !host.isEmpty,
              let port = Int(environment["KUBERNETES_SERVICE_PORT"] ?? "") else {
            throw TopologyError("--in-cluster: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT are not set (not running in a pod?)")
        }
        for file in ["token", "ca.crt"] where !FileManager.default.isReadableFile(atPath: "\(directory)/\(file)") {
            throw TopologyError("--in-cluster: cannot read \(directory)/\(file) (is a service account token mounted?)")
        }
        return KubeEndpoint(host: host, port: port, certificateAuthority: .file("\(directory)/ca.crt"),
                            credentials: .tokenFile("\(directory)/token"))
    }

    /// The cluster and user of `context` (or the current context) in a kubeconfig file.
    public static func kubeconfig(path: String, context wanted: String? = nil) throws -> KubeEndpoint {
        guard let data = FileManager.default.contents(atPath: path) else { throw TopologyError("cannot read kubeconfig \(path)") }
        let config: KubeconfigFile
        do {
            config = try YAMLDecoder().decode(KubeconfigFile.self, from: String(decoding: data, as: UTF8.self))
        } catch let error as DecodingError {
            throw TopologyError("kubeconfig \(path): \(DecodingErrorText.describe(error))")
        } catch {
            throw TopologyError("kubeconfig \(path): not valid YAML: \(error)")
        }
        return try config.endpoint(context: wanted, directory: (path as NSString).deletingLastPathComponent, path: path)
    }
}

/// The parts of a kubeconfig the client uses.
private struct KubeconfigFile: Decodable {
    struct Cluster: Decodable {
        var server: String
        var certificateAuthority: String?
        var certificateAuthorityData: String?
        var insecureSkipTLSVerify: Bool?
        enum CodingKeys: String, CodingKey {
            case server, certificateAuthority = "certificate-authority"
            case certificateAuthorityData = "certificate-authority-data", insecureSkipTLSVerify = "insecure-skip-tls-verify"
        }
    }
    struct User: Decodable {
        var token: String?
        var tokenFile: String?
        var clientCertificate: String?
        var clientCertificateData: String?
        var clientKey: String?
        var clientKeyData: String?
        enum CodingKeys: String, CodingKey {
            case token, tokenFile, clientCertificate = "client-certificate", clientCertificateData = "client-certificate-data"
            case clientKey = "client-key", clientKeyData = "client-key-data"
        }
    }
    struct Context: Decodable { var cluster: String; var user: String }
    struct NamedCluster: Decodable { var name: String; var cluster: Cluster }
    struct NamedUser: Decodable { var name: String; var user: User }
    struct NamedContext: Decodable { var name: String; var context: Context }

    var clusters: [NamedCluster]
    var users: [NamedUser]?
    var contexts: [NamedContext]
    var currentContext: String?
    enum CodingKeys: String, CodingKey { case clusters, users, contexts, currentContext = "current-context" }

    func endpoint(context wanted: String?, directory: String, path: String) throws -> KubeEndpoint {
        guard let name = wanted ?? currentContext else { throw TopologyError("kubeconfig \(path): no current-context; name one") }
        guard let context = contexts.first(where: { $0.name == name })?.context else {
            throw TopologyError("kubeconfig \(path): no context \"\(name)\"")
        }
        guard let cluster = clusters.first(where: { $0.name == context.cluster })?.cluster else {
            throw TopologyError("kubeconfig \(path): context \"\(name)\" names cluster \"\(context.cluster)\", which is not defined")
        }
        guard let user = users?.first(where: { $0.name == context.user })?.user else {
            throw TopologyError("kubeconfig \(path): context \"\(name)\" names user \"\(context.user)\", which is not defined")
        }
        if cluster.insecureSkipTLSVerify == true {
            throw TopologyError("kubeconfig \(path): insecure-skip-tls-verify is not supported; give the cluster CA")
        }
        guard let url = URLComponents(string: cluster.server), url.scheme == "https", let host = url.host, !host.isEmpty else {
            throw TopologyError("kubeconfig \(path): server \"\(cluster.server)\" is not an https:// URL")
        }
        let resolve = { (file: String) in file.hasPrefix("/") ? file : "\(directory)/\(file)" }
        func pem(_ file: String?, _ data: String?, _ what: String) throws -> PEMSource? {
            if let data {
                guard let bytes = Data(base64Encoded: data, options: .ignoreUnknownCharacters) else {
                    throw TopologyError("kubeconfig \(path): \(what)-data is not base64")
                }
                return .bytes(Array(bytes))
            }
            return file.map { .file(resolve($0)) }
        }
        guard let ca = try pem(cluster.certificateAuthority, cluster.certificateAuthorityData, "certificate-authority") else {
            throw TopologyError("kubeconfig \(path): cluster \"\(context.cluster)\" has no certificate-authority(-data)")
        }
        let credentials: KubeEndpoint.Credentials
        if let cert = try pem(user.clientCertificate, user.clientCertificateData, "client-certificate"),
           let key = try pem(user.clientKey, user.clientKeyData, "client-key") {
            credentials = .clientCertificate(certificate: cert, key: key)
        } else if let token = user.token {
            credentials = .token(token)
        } else if let file = user.tokenFile {
            credentials = .tokenFile(resolve(file))
        } else {
            throw TopologyError("kubeconfig \(path): user \"\(context.user)\" has no client certificate or token (exec plugins are not supported)")
        }
        // Host names in brackets are IPv6 literals.
        let bare = host.hasPrefix("[") ? String(host.dropFirst().dropLast()) : host
        return KubeEndpoint(host: bare, port: url.port ?? 443, certificateAuthority: ca, credentials: credentials)
    }
}
