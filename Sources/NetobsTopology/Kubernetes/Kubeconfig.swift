import Foundation
import NetobsTLS
import Yams

/// A kubeconfig as kubectl reads it: one file, or several (`$KUBECONFIG`) merged with kubectl's
/// rule that the first file to name a cluster, user or context wins, as does the first
/// `current-context`. Relative file paths resolve against the directory of the file that holds
/// them.
struct Kubeconfig {
    /// An entry with the directory of the file it came from.
    struct Located<T> {
        var value: T
        var directory: String
        var path: String
    }

    var clusters: [String: Located<KubeconfigFile.Cluster>] = [:]
    var users: [String: Located<KubeconfigFile.User>] = [:]
    var contexts: [String: Located<KubeconfigFile.Context>] = [:]
    var currentContext: String?
    /// The files read, for messages.
    var paths: [String] = []

    /// Reads and merges `paths`; with `skipMissing` (the `$KUBECONFIG` list) a file that does
    /// not exist is passed over, as kubectl does, otherwise it is an error.
    init(paths: [String], skipMissing: Bool) throws {
        for path in paths where !path.isEmpty {
            guard let data = FileManager.default.contents(atPath: path) else {
                if skipMissing && !FileManager.default.fileExists(atPath: path) { continue }
                throw TopologyError("cannot read kubeconfig \(path)")
            }
            let file: KubeconfigFile
            do {
                file = try YAMLDecoder().decode(KubeconfigFile.self, from: String(decoding: data, as: UTF8.self))
            } catch let error as DecodingError {
                throw TopologyError("kubeconfig \(path): \(DecodingErrorText.describe(error))")
            } catch {
                throw TopologyError("kubeconfig \(path): not valid YAML: \(error)")
            }
            merge(file, path: path)
        }
        guard !self.paths.isEmpty else {
            throw TopologyError("no kubeconfig: none of \(paths.filter { !$0.isEmpty }.joined(separator: ", ")) exists")
        }
    }

    private mutating func merge(_ file: KubeconfigFile, path: String) {
        let directory = (path as NSString).deletingLastPathComponent
        paths.append(path)
        for c in file.clusters ?? [] where clusters[c.name] == nil { clusters[c.name] = Located(value: c.cluster, directory: directory, path: path) }
        for u in file.users ?? [] where users[u.name] == nil { users[u.name] = Located(value: u.user, directory: directory, path: path) }
        for c in file.contexts ?? [] where contexts[c.name] == nil { contexts[c.name] = Located(value: c.context, directory: directory, path: path) }
        if currentContext == nil, let current = file.currentContext, !current.isEmpty { currentContext = current }
    }

    /// The files kubectl would read: `$KUBECONFIG` (colon-separated), else ~/.kube/config.
    static func defaultPaths(environment: [String: String]) -> (paths: [String], fromVariable: Bool) {
        if let list = environment["KUBECONFIG"], !list.isEmpty {
            return (list.split(separator: ":", omittingEmptySubsequences: true).map(String.init), true)
        }
        let home = environment["HOME"] ?? NSHomeDirectory()
        return ([home + "/.kube/config"], false)
    }

    /// The endpoint of context `wanted` (or the current one).
    func endpoint(context wanted: String?) throws -> KubeEndpoint {
        let what = paths.count == 1 ? "kubeconfig \(paths[0])" : "kubeconfig \(paths.joined(separator: ":"))"
        guard let name = wanted ?? currentContext else { throw TopologyError("\(what): no current-context; name one") }
        guard let context = contexts[name]?.value else { throw TopologyError("\(what): no context \"\(name)\"") }
        guard let located = clusters[context.cluster] else {
            throw TopologyError("\(what): context \"\(name)\" names cluster \"\(context.cluster)\", which is not defined")
        }
        guard let user = users[context.user] else {
            throw TopologyError("\(what): context \"\(name)\" names user \"\(context.user)\", which is not defined")
        }
        let cluster = located.value
        if cluster.insecureSkipTLSVerify == true {
            throw TopologyError("\(what): insecure-skip-tls-verify is not supported; give the cluster CA")
        }
        guard let url = URLComponents(string: cluster.server), url.scheme == "https", let host = url.host, !host.isEmpty else {
            throw TopologyError("\(what): server \"\(cluster.server)\" is not an https:// URL")
        }
        func resolve(_ file: String, in directory: String) -> String { file.hasPrefix("/") ? file : "\(directory)/\(file)" }
        func pem(_ file: String?, _ data: String?, _ what2: String, in directory: String) throws -> PEMSource? {
            if let data {
                guard let bytes = Data(base64Encoded: data, options: .ignoreUnknownCharacters) else {
                    throw TopologyError("\(what): \(what2)-data is not base64")
                }
                return .bytes(Array(bytes))
            }
            return file.map { .file(resolve($0, in: directory)) }
        }
        guard let ca = try pem(cluster.certificateAuthority, cluster.certificateAuthorityData, "certificate-authority",
                               in: located.directory) else {
            throw TopologyError("\(what): cluster \"\(context.cluster)\" has no certificate-authority(-data)")
        }
        let u = user.value, dir = user.directory
        let credentials: KubeEndpoint.Credentials
        if let cert = try pem(u.clientCertificate, u.clientCertificateData, "client-certificate", in: dir),
           let key = try pem(u.clientKey, u.clientKeyData, "client-key", in: dir) {
            credentials = .clientCertificate(certificate: cert, key: key)
        } else if let token = u.token {
            credentials = .token(token)
        } else if let file = u.tokenFile {
            credentials = .tokenFile(resolve(file, in: dir))
        } else if let exec = u.exec {
            credentials = .exec(try KubeExecPlugin(exec, user: context.user, directory: dir,
                                                   cluster: .init(server: cluster.server, certificateAuthorityData:
                                                                    cluster.certificateAuthorityData)))
        } else {
            throw TopologyError("\(what): user \"\(context.user)\" has no client certificate, token or exec plugin")
        }
        // Host names in brackets are IPv6 literals.
        let bare = host.hasPrefix("[") ? String(host.dropFirst().dropLast()) : host
        return KubeEndpoint(host: bare, port: url.port ?? 443, certificateAuthority: ca, credentials: credentials)
    }
}

/// The parts of a kubeconfig file the client uses.
struct KubeconfigFile: Decodable {
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
        var exec: KubeExecConfig?
        enum CodingKeys: String, CodingKey {
            case token, tokenFile, clientCertificate = "client-certificate", clientCertificateData = "client-certificate-data"
            case clientKey = "client-key", clientKeyData = "client-key-data", exec
        }
    }
    struct Context: Decodable { var cluster: String; var user: String }
    struct NamedCluster: Decodable { var name: String; var cluster: Cluster }
    struct NamedUser: Decodable { var name: String; var user: User }
    struct NamedContext: Decodable { var name: String; var context: Context }

    var clusters: [NamedCluster]?
    var users: [NamedUser]?
    var contexts: [NamedContext]?
    var currentContext: String?
    enum CodingKeys: String, CodingKey { case clusters, users, contexts, currentContext = "current-context" }
}

/// A user's `exec` section (client.authentication.k8s.io ExecConfig).
struct KubeExecConfig: Decodable, Sendable {
    struct EnvVar: Decodable, Sendable { var name: String; var value: String }
    var apiVersion: String
    var command: String
    var args: [String]?
    var env: [EnvVar]?
    var installHint: String?
    var provideClusterInfo: Bool?
    var interactiveMode: String?
}
