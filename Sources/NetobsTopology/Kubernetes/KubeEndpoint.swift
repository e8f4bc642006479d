import Foundation
import NetobsTLS

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
        /// A kubeconfig `exec` plugin: a token and/or a client certificate, run for when needed.
        case exec(KubeExecPlugin)
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

    /// The cluster and user of `context` (or the current context) in a kubeconfig file, or in
    /// several merged (a colon-separated list, first wins, as kubectl merges `$KUBECONFIG`).
    public static func kubeconfig(path: String, context wanted: String? = nil) throws -> KubeEndpoint {
        try Kubeconfig(paths: path.split(separator: ":").map(String.init), skipMissing: false).endpoint(context: wanted)
    }

    /// The kubeconfig kubectl would use: the files of `$KUBECONFIG` merged (those that do not
    /// exist are passed over), else ~/.kube/config.
    public static func kubeconfigFromEnvironment(context wanted: String? = nil,
                                                 environment: [String: String] = ProcessInfo.processInfo.environment) throws
        -> KubeEndpoint {
        let (paths, fromVariable) = Kubeconfig.defaultPaths(environment: environment)
        return try Kubeconfig(paths: paths, skipMissing: fromVariable).endpoint(context: wanted)
    }
}
