import Foundation
import NIOCore
import NIOPosix
import Testing
import NetobsTLS
@testable import NetobsTopology

/// A kubeconfig `exec` credential plugin, faked by a Python script that records how it was run
/// (arguments, environment, KUBERNETES_EXEC_INFO, how often) and prints an ExecCredential made
/// from files a test rewrites: `token`, or `cert.pem` + `key.pem`, `expires_in` seconds, `fail`.
final class FakeExecPlugin: @unchecked Sendable {
    let directory = NSTemporaryDirectory() + "netobs-exec-\(UUID().uuidString)"
    static let script = #"""
    #!/usr/bin/python3
    import datetime, json, os, sys
    state = sys.argv[sys.argv.index("--state") + 1]
    def read(name):
        try:
            with open(os.path.join(state, name)) as f: return f.read().strip()
        except FileNotFoundError:
            return None
    with open(os.path.join(state, "calls"), "a") as f:
        f.write(json.dumps({"args": sys.argv[1:], "mode": os.environ.get("FAKE_MODE"),
                            "info": json.loads(os.environ.get("KUBERNETES_EXEC_INFO", "null"))}) + "\n")
    if read("fail"):
        sys.stderr.write(read("fail") + "\n")
        sys.exit(3)
    status = {}
    if os.environ.get("FAKE_MODE") == "cert":
        status["clientCertificateData"] = read("cert.pem") + "\n"
        status["clientKeyData"] = read("key.pem") + "\n"
    else:
        status["token"] = read("token")
    if read("expires_in"):
        at = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=float(read("expires_in")))
        status["expirationTimestamp"] = at.strftime("%Y-%m-%dT%H:%M:%SZ")
    print(json.dumps({"apiVersion": read("answer_version") or os.environ["FAKE_API_VERSION"], "kind": "ExecCredential",
                      "status": status}))
    """#

    init() throws {
        try FileManager.default.createDirectory(atPath: directory + "/bin", withIntermediateDirectories: true)
        try Self.script.write(toFile: directory + "/bin/fake-plugin", atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: directory + "/bin/fake-plugin")
    }

    deinit { try? FileManager.default.removeItem(atPath: directory) }

    func write(_ name: String, _ text: String) throws {
        try text.write(toFile: directory + "/" + name, atomically: true, encoding: .utf8)
    }

    /// Every run so far, as the plugin saw it.
    var calls: [[String: Any]] {
        let text = (try? String(contentsOfFile: directory + "/calls", encoding: .utf8)) ?? ""
        return text.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
    }

    /// A kubeconfig next to the plugin naming it by a relative path, as kubectl resolves it.
    func kubeconfig(port: Int, ca: [UInt8], apiVersion: String = "client.authentication.k8s.io/v1", mode: String = "token",
                    extra: String = "") throws -> String {
        let path = directory + "/kubeconfig"
        try """
        apiVersion: v1
        kind: Config
        current-context: exec
        clusters:
        - name: stand-in
          cluster:
            server: https://127.0.0.1:\(port)
            certificate-authority-data: \(Data(ca).base64EncodedString())
        users:
        - name: plugged
          user:
            exec:
              apiVersion: \(apiVersion)
              command: ./bin/fake-plugin
              args: ["--state", "\(directory)"]
              env:
              - {name: FAKE_MODE, value: \(mode)}
              - {name: FAKE_API_VERSION, value: \(apiVersion)}
              provideClusterInfo: true
              interactiveMode: Never
              installHint: "install fake-plugin from the test"\(extra)
        contexts:
        - name: exec
          context: {cluster: stand-in, user: plugged}
        """.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }
}

@Suite("kubeconfig exec credential plugins", .serialized)
struct ExecPluginTests {
    static func settings() -> KubeWatchSettings {
        var s = KubeWatchSettings()
        s.initialBackoff = .milliseconds(50)
        s.maxBackoff = .milliseconds(400)
        return s
    }

    static func plugin(_ endpoint: KubeEndpoint) throws -> KubeExecPlugin {
        guard case .exec(let plugin) = endpoint.credentials else { throw TopologyError("not an exec user") }
        return plugin
    }

    @Test("a token plugin: run once for every list and watch, then again when the API server refuses its token")
    func tokenPlugin() async throws {
        let first = BearerTokenTLSTests.secret()
        let cluster = try BearerTokenTLSTests.TokenCluster(serverToken: first, fileToken: "unused")
        let fake = try FakeExecPlugin()
        try fake.write("token", first)
        let endpoint = try KubeEndpoint.kubeconfig(path: fake.kubeconfig(port: cluster.terminator.port, ca: cluster.pki.ca.certificate.pem))
        let plugin = try Self.plugin(endpoint)
        let store = TopologyStore()
        let log = LogCollector()
        let source = try KubernetesTopologySource(endpoint: endpoint, store: store, settings: Self.settings(), log: log.sink)
        source.start()
        defer { source.stop() }
        #expect(await eventually { source.isSynced && cluster.server.openWatches == 4 }, "\(log.all)")
        #expect(store.state.pods.values.map(\.name) == ["carts-1"])
        #expect(plugin.runs == 1 && fake.calls.count == 1, "one run serves every request until the token expires or is refused")
        #expect(cluster.server.authorizations.count >= 8 && Set(cluster.server.authorizations) == ["Bearer \(first)"])

        // How it was run: its args, its env, and KUBERNETES_EXEC_INFO with the cluster it asked for.
        let call = try #require(fake.calls.first)
        #expect(call["args"] as? [String] == ["--state", fake.directory] && call["mode"] as? String == "token")
        let info = try #require(call["info"] as? [String: Any])
        #expect(info["apiVersion"] as? String == "client.authentication.k8s.io/v1" && info["kind"] as? String == "ExecCredential")
        let spec = try #require(info["spec"] as? [String: Any])
        #expect(spec["interactive"] as? Bool == false)
        #expect((spec["cluster"] as? [String: Any])?["server"] as? String == "https://127.0.0.1:\(cluster.terminator.port)")

        // The token is revoked and the plugin now gives another: the 401s make it run again.
        let second = BearerTokenTLSTests.secret()
        try fake.write("token", second)
        cluster.server.setBearerToken(second)
        cluster.server.dropWatches()
        #expect(await eventually { cluster.server.openWatches == 4 && cluster.server.authorizations.last == "Bearer \(second)" },
                "\(log.all)")
        #expect(plugin.runs == 2, "one new run, shared by the watchers that were refused")
        cluster.server.apply(FakeAPIServer.paths[0], KubeObjects.pod("carts-2", ip: "10.1.0.6"))
        #expect(await eventually { store.state.pods.count == 2 })
        #expect(!log.all.contains { $0.contains(first) || $0.contains(second) }, "tokens are never logged")
    }

    @Test("a credential is kept until its expirationTimestamp, then the plugin runs again")
    func expiry() async throws {
        let token = BearerTokenTLSTests.secret()
        let cluster = try BearerTokenTLSTests.TokenCluster(serverToken: token, fileToken: "unused")
        let fake = try FakeExecPlugin()
        try fake.write("token", token)
        try fake.write("expires_in", "2")
        let endpoint = try KubeEndpoint.kubeconfig(path: fake.kubeconfig(port: cluster.terminator.port, ca: cluster.pki.ca.certificate.pem,
                                                                         apiVersion: "client.authentication.k8s.io/v1beta1"))
        let client = try KubeHTTPClient(endpoint: endpoint, group: MultiThreadedEventLoopGroup.singleton)
        #expect(try await client.getAll("/api/v1/pods", timeout: .seconds(5)).status == 200)
        #expect(try await client.getAll("/api/v1/nodes", timeout: .seconds(5)).status == 200)
        #expect(fake.calls.count == 1)
        try await Task.sleep(for: .milliseconds(2_600))
        #expect(try await client.getAll("/api/v1/pods", timeout: .seconds(5)).status == 200)
        #expect(fake.calls.count == 2, "expired: run again")
    }

    @Test("a client-certificate plugin: mutual TLS with the certificate it printed")
    func certificatePlugin() async throws {
        let cluster = try StandInCluster()
        let fake = try FakeExecPlugin()
        try fake.write("cert.pem", String(decoding: cluster.pki.client.certificate.pem, as: UTF8.self))
        try fake.write("key.pem", String(decoding: cluster.pki.client.key.pkcs8PEM, as: UTF8.self))
        let endpoint = try KubeEndpoint.kubeconfig(path: fake.kubeconfig(port: cluster.server.port, ca: cluster.pki.ca.certificate.pem,
                                                                         apiVersion: "client.authentication.k8s.io/v1beta1", mode: "cert"))
        let store = TopologyStore()
        let source = try KubernetesTopologySource(endpoint: endpoint, store: store, settings: Self.settings())
        source.start()
        defer { source.stop() }
        #expect(await eventually { store.state == cluster.expected && cluster.server.openWatches == 4 })
        #expect(Set(cluster.server.authorizations) == [""], "no bearer token: the certificate authenticates")
        #expect(try Self.plugin(endpoint).runs == 1)
    }

    @Test("a plugin that fails, is missing or answers wrongly says why")
    func failures() async throws {
        let fake = try FakeExecPlugin()
        try fake.write("token", "t")
        try fake.write("fail", "cannot reach the identity provider")
        let endpoint = try KubeEndpoint.kubeconfig(path: fake.kubeconfig(port: 1, ca: try KubeTestPKI().ca.certificate.pem))
        let plugin = try Self.plugin(endpoint)
        await #expect(throws: TopologyError("kubeconfig user \"plugged\": exec plugin ./bin/fake-plugin failed (exit status 3): "
                                            + "cannot reach the identity provider")) { try await plugin.credential() }
        try FileManager.default.removeItem(atPath: fake.directory + "/fail")
        try fake.write("answer_version", "client.authentication.k8s.io/v1beta1")
        await #expect(throws: TopologyError("kubeconfig user \"plugged\": exec plugin ./bin/fake-plugin answered with apiVersion "
                                            + "\"client.authentication.k8s.io/v1beta1\"; the kubeconfig asks for client.authentication.k8s.io/v1")) {
            try await plugin.credential()
        }
        #expect(plugin.runs == 0)

        try FileManager.default.removeItem(atPath: fake.directory + "/bin/fake-plugin")
        await #expect(throws: TopologyError("kubeconfig user \"plugged\": exec plugin ./bin/fake-plugin: not found or not executable "
                                            + "(install fake-plugin from the test)")) { try await plugin.credential() }

        let ca = try KubeTestPKI().ca.certificate.pem
        #expect(throws: TopologyError.self) {
            try KubeEndpoint.kubeconfig(path: fake.kubeconfig(port: 1, ca: ca, apiVersion: "client.authentication.k8s.io/v1alpha1"))
        }
        let path = try fake.kubeconfig(port: 1, ca: ca)
        try String(contentsOfFile: path, encoding: .utf8).replacingOccurrences(of: "interactiveMode: Never", with: "interactiveMode: Always")
            .write(toFile: path, atomically: true, encoding: .utf8)
        #expect(throws: TopologyError("kubeconfig user \"plugged\": the exec plugin needs a terminal (interactiveMode: Always); "
                                      + "the controller runs it without one")) { try KubeEndpoint.kubeconfig(path: path) }
    }

    @Test func execCredentialParsing() throws {
        let v1 = "client.authentication.k8s.io/v1"
        func parse(_ json: String) throws -> KubeExecPlugin.Credential {
            try KubeExecPlugin.parse(Array(json.utf8), apiVersion: v1, what: "p")
        }
        let c = try parse(#"{"apiVersion":"\#(v1)","kind":"ExecCredential","status":{"token":"abc","expirationTimestamp":"2030-01-01T00:00:00Z"}}"#)
        #expect(c.token == "abc" && c.expiration == 1_893_456_000 && !c.hasCertificate)
        let f = try parse(#"{"apiVersion":"\#(v1)","kind":"ExecCredential","status":{"token":"x","expirationTimestamp":"2030-01-01T00:00:00.5Z"}}"#)
        #expect(f.expiration == 1_893_456_000.5)
        #expect(throws: TopologyError("p gave neither a token nor a client certificate")) {
            try parse(#"{"apiVersion":"\#(v1)","kind":"ExecCredential","status":{}}"#)
        }
        #expect(throws: TopologyError("p gave a client certificate without its key, or a key without its certificate")) {
            try parse(#"{"apiVersion":"\#(v1)","kind":"ExecCredential","status":{"clientCertificateData":"PEM"}}"#)
        }
        #expect(throws: TopologyError("p printed no ExecCredential JSON")) { try parse("Password: ") }
        #expect(throws: TopologyError.self) { try parse(#"{"apiVersion":"\#(v1)","kind":"ExecCredential","status":{"token":"a","expirationTimestamp":"soon"}}"#) }
        #expect(KubeExecPlugin.resolve("/opt/x", directory: "/d", path: "/bin") == "/opt/x")
        #expect(KubeExecPlugin.resolve("bin/x", directory: "/d", path: "/bin") == "/d/bin/x")
        #expect(KubeExecPlugin.resolve("sh", directory: "/d", path: "/nonexistent:/bin") == "/bin/sh")
    }
}
