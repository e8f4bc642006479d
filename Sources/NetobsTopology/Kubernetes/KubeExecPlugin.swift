import Foundation
import Synchronization

/// A kubeconfig `exec` credential plugin (client.authentication.k8s.io/v1 or v1beta1, as EKS,
/// GKE and AKS kubeconfigs use): the command is run with its args and env, and what it prints,
/// an ExecCredential, gives a bearer token and/or a client certificate. The credential is kept
/// until its `expirationTimestamp` (for ever without one) and the plugin is run again after
/// that, or when the API server refuses it (`invalidate`, on HTTP 401). Concurrent requests
/// share one run. The token is never logged.
public final class KubeExecPlugin: Sendable {
    public static let apiVersions: Set<String> = ["client.authentication.k8s.io/v1", "client.authentication.k8s.io/v1beta1"]

    /// What a run gave.
    public struct Credential: Sendable, Equatable {
        public var token: String?
        public var clientCertificate: [UInt8]?
        public var clientKey: [UInt8]?
        /// Unix seconds; nil: does not expire.
        public var expiration: Double?

        public var hasCertificate: Bool { clientCertificate != nil && clientKey != nil }
    }

    /// The cluster, given to the plugin in KUBERNETES_EXEC_INFO when it asks (`provideClusterInfo`).
    struct ClusterInfo: Sendable {
        var server: String
        var certificateAuthorityData: String?
    }

    let config: KubeExecConfig
    let user: String
    /// The command to run: absolute, or resolved against the kubeconfig's directory or $PATH.
    let executable: String
    let cluster: ClusterInfo
    private let now: @Sendable () -> Double
    private struct State {
        var cached: Credential?
        var running: Task<Credential, any Error>?
        var runs = 0
    }
    private let state = Mutex(State())

    /// Successful runs so far (tests count them).
    public var runs: Int { state.withLock { $0.runs } }

    init(_ config: KubeExecConfig, user: String, directory: String, cluster: ClusterInfo,
         environment: [String: String] = ProcessInfo.processInfo.environment,
         now: @escaping @Sendable () -> Double = { Date().timeIntervalSince1970 }) throws {
        guard Self.apiVersions.contains(config.apiVersion) else {
            throw TopologyError("kubeconfig user \"\(user)\": exec apiVersion \"\(config.apiVersion)\" is not supported "
                + "(\(Self.apiVersions.sorted().joined(separator: ", ")))")
        }
        if config.interactiveMode == "Always" {
            throw TopologyError("kubeconfig user \"\(user)\": the exec plugin needs a terminal (interactiveMode: Always); "
                + "the controller runs it without one")
        }
        self.config = config
        self.user = user
        self.cluster = cluster
        self.now = now
        executable = Self.resolve(config.command, directory: directory, path: environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin")
    }

    /// As kubectl: a command with a slash is a path (relative ones from the kubeconfig's
    /// directory); a bare name is looked up in $PATH (and left as it is when not found, for the
    /// error to name it).
    static func resolve(_ command: String, directory: String, path: String) -> String {
        if command.hasPrefix("/") { return command }
        if command.contains("/") { return directory + "/" + command }
        for dir in path.split(separator: ":") where FileManager.default.isExecutableFile(atPath: "\(dir)/\(command)") {
            return "\(dir)/\(command)"
        }
        return command
    }

    /// The current credential, running the plugin when there is none or it has expired.
    public func credential() async throws -> Credential {
        enum Next { case ready(Credential), wait(Task<Credential, any Error>) }
        let now = self.now()
        let next = state.withLock { s -> Next in
            if let c = s.cached, c.expiration.map({ now < $0 }) ?? true { return .ready(c) }
            if let running = s.running { return .wait(running) }
            let task = Task { [config, executable, user, cluster] in
                try await Self.run(config, executable: executable, user: user, cluster: cluster)
            }
            s.running = task
            return .wait(task)
        }
        switch next {
        case .ready(let credential):
            return credential
        case .wait(let task):
            do {
                let credential = try await task.value
                state.withLock { s in
                    guard s.running == task else { return }  // another waiter of this run got here first
                    s.running = nil
                    s.cached = credential
                    s.runs += 1
                }
                return credential
            } catch {
                state.withLock { s in if s.running == task { s.running = nil } }
                throw error
            }
        }
    }

    /// The API server refused `used` (HTTP 401): the next request runs the plugin again.
    public func invalidate(_ used: Credential) {
        state.withLock { s in if s.cached == used { s.cached = nil } }
    }

    // MARK: Running the command

    private static func run(_ config: KubeExecConfig, executable: String, user: String, cluster: ClusterInfo) async throws -> Credential {
        let what = "kubeconfig user \"\(user)\": exec plugin \(config.command)"
        guard FileManager.default.isExecutableFile(atPath: executable) else {
            throw TopologyError("\(what): not found or not executable" + (config.installHint.map { " (\($0))" } ?? ""))
        }
        var environment = ProcessInfo.processInfo.environment
        for variable in config.env ?? [] { environment[variable.name] = variable.value }
        environment["KUBERNETES_EXEC_INFO"] = execInfo(config, cluster: cluster)
        let (status, stdout, stderr) = try await ProcessRun.run(executable, config.args ?? [], environment: environment,
                                                                timeout: .seconds(60))
        guard status == 0 else {
            let said = String(decoding: stderr.suffix(2_000), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            throw TopologyError("\(what) failed (exit status \(status))" + (said.isEmpty ? "" : ": \(said)"))
        }
        return try parse(stdout, apiVersion: config.apiVersion, what: what)
    }

    /// KUBERNETES_EXEC_INFO: an ExecCredential with the spec the plugin may read.
    static func execInfo(_ config: KubeExecConfig, cluster: ClusterInfo) -> String {
        var spec: [String: Any] = ["interactive": false]
        if config.provideClusterInfo == true {
            var c: [String: Any] = ["server": cluster.server]
            if let ca = cluster.certificateAuthorityData { c["certificate-authority-data"] = ca }
            spec["cluster"] = c
        }
        let object: [String: Any] = ["apiVersion": config.apiVersion, "kind": "ExecCredential", "spec": spec]
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data()
        return String(decoding: data, as: UTF8.self)
    }

    /// The plugin's stdout: an ExecCredential of the configured apiVersion with a token or a
    /// client certificate and key.
    static func parse(_ output: [UInt8], apiVersion: String, what: String) throws -> Credential {
        struct ExecCredential: Decodable {
            struct Status: Decodable {
                var token: String?
                var clientCertificateData: String?
                var clientKeyData: String?
                var expirationTimestamp: String?
            }
            var apiVersion: String?
            var kind: String?
            var status: Status?
        }
        let decoded: ExecCredential
        do {
            decoded = try JSONDecoder().decode(ExecCredential.self, from: Data(output))
        } catch {
            throw TopologyError("\(what) printed no ExecCredential JSON")
        }
        guard decoded.kind == "ExecCredential" else { throw TopologyError("\(what) printed kind \"\(decoded.kind ?? "")\", not ExecCredential") }
        guard decoded.apiVersion == apiVersion else {
            throw TopologyError("\(what) answered with apiVersion \"\(decoded.apiVersion ?? "")\"; the kubeconfig asks for \(apiVersion)")
        }
        guard let status = decoded.status else { throw TopologyError("\(what) printed an ExecCredential without status") }
        var credential = Credential()
        credential.token = status.token.flatMap { $0.isEmpty ? nil : $0 }
        if let cert = status.clientCertificateData, let key = status.clientKeyData, !cert.isEmpty, !key.isEmpty {
            credential.clientCertificate = Array(cert.utf8)
            credential.clientKey = Array(key.utf8)
        } else if status.clientCertificateData != nil || status.clientKeyData != nil {
            throw TopologyError("\(what) gave a client certificate without its key, or a key without its certificate")
        }
        guard credential.token != nil || credential.hasCertificate else {
            throw TopologyError("\(what) gave neither a token nor a client certificate")
        }
        if let text = status.expirationTimestamp {
            guard let date = parseTime(text) else { throw TopologyError("\(what) gave expirationTimestamp \"\(text)\", not RFC 3339") }
            credential.expiration = date.timeIntervalSince1970
        }
        return credential
    }

    static func parseTime(_ text: String) -> Date? {
        let plain = ISO8601DateFormatter()
        if let date = plain.date(from: text) { return date }
        let fractional = ISO8601DateFormatter()
        fractional.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return fractional.date(from: text)
    }
}
