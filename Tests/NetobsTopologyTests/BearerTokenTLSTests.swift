import Foundation
import NIOCore
import NIOPosix
import Testing
import NetobsTLS
@testable import NetobsTopology

/// The Kubernetes client as it runs in a pod: a service-account token file and the cluster CA
/// file, no client certificate (`TLSConfiguration.clientWithoutCertificate`). The stand-in API
/// server checks the token; TLS in front of it is Python's ssl module, asking for no client
/// certificate, as the real API server does for token clients.
@Suite(.serialized) struct BearerTokenTLSTests {
    /// The stand-in (plain HTTP, checking `token`) behind TLS with `certificate`, and a
    /// service-account directory (`token`, `ca.crt`) as a pod has it mounted.
    final class TokenCluster {
        let pki: KubeTestPKI
        let server: FakeAPIServer
        let terminator: TLSTerminator
        let serviceAccount = NSTemporaryDirectory() + "netobs-sa-\(UUID().uuidString)"

        init(serverToken: String, fileToken: String, signedByOtherCA: Bool = false) throws {
            pki = try KubeTestPKI()
            server = try FakeAPIServer(tls: nil, bearerToken: serverToken)
            server.apply(FakeAPIServer.paths[0], KubeObjects.pod("carts-1", ip: "10.1.0.5"))
            server.apply(FakeAPIServer.paths[3], KubeObjects.node("node-1", ip: "192.168.50.1"))
            var identity = pki.server
            if signedByOtherCA {
                // Same names as the real CA and server, another key: an impostor.
                let otherCA = try CertificateFactory.selfSigned(CertificateRequest(commonName: "kubernetes CA", usage: .certificateAuthority))
                identity = try CertificateFactory.issue(CertificateRequest(commonName: "kube-apiserver", usage: .server,
                                                                           ipAddresses: ["127.0.0.1"]), by: otherCA)
            }
            terminator = try TLSTerminator(certificate: identity.certificate.pem, key: identity.key.pkcs8PEM, backendPort: server.port)
            try FileManager.default.createDirectory(atPath: serviceAccount, withIntermediateDirectories: true)
            try writeToken(fileToken)
            try Data(pki.ca.certificate.pem).write(to: URL(fileURLWithPath: serviceAccount + "/ca.crt"))
        }

        deinit {
            terminator.stop()
            try? server.stop()
            try? FileManager.default.removeItem(atPath: serviceAccount)
        }

        func writeToken(_ token: String) throws {
            try (token + "\n").write(toFile: serviceAccount + "/token", atomically: true, encoding: .utf8)
        }

        /// What `--in-cluster` builds, from the pod's environment and mounted files.
        func endpoint() throws -> KubeEndpoint {
            try KubeEndpoint.inCluster(environment: ["KUBERNETES_SERVICE_HOST": "127.0.0.1",
                                                     "KUBERNETES_SERVICE_PORT": "\(terminator.port)"],
                                       directory: serviceAccount)
        }

        func source(_ store: TopologyStore, log: LogCollector) throws -> KubernetesTopologySource {
            var settings = KubeWatchSettings()
            settings.initialBackoff = .milliseconds(50)
            settings.maxBackoff = .milliseconds(400)
            return try KubernetesTopologySource(endpoint: endpoint(), store: store, settings: settings, log: log.sink)
        }
    }

    static func secret() -> String { "sa-token-" + UUID().uuidString }

    @Test func listsAndWatchesWithTheTokenAndNoClientCertificate() async throws {
        let token = Self.secret()
        let cluster = try TokenCluster(serverToken: token, fileToken: token)
        let store = TopologyStore()
        let source = try cluster.source(store, log: LogCollector())
        source.start()
        defer { source.stop() }
        #expect(await eventually { source.isSynced && cluster.server.openWatches == 4 })
        #expect(store.state.pods.values.map(\.name) == ["carts-1"])
        #expect(store.state.nodes.values.map(\.ips) == [["192.168.50.1"]])
        // Every request carried the token; every connection was TLS 1.3 with no client certificate.
        #expect(cluster.server.authorizations.count >= 8)
        #expect(Set(cluster.server.authorizations) == ["Bearer \(token)"])
        let handshakes = cluster.terminator.lines.filter { $0.hasPrefix("handshake") }
        #expect(handshakes.count >= 8 && Set(handshakes) == ["handshake-ok TLSv1.3 client-certificate False"], "\(handshakes)")

        // A rotated token (projected tokens are) is read again for the next request.
        let rotated = Self.secret()
        try cluster.writeToken(rotated)
        cluster.server.setBearerToken(rotated)
        let client = try KubeHTTPClient(endpoint: cluster.endpoint(), group: MultiThreadedEventLoopGroup.singleton)
        #expect(try await client.getAll("/api/v1/pods", timeout: .seconds(5)).status == 200)
        #expect(cluster.server.authorizations.last == "Bearer \(rotated)")
    }

    @Test func refusesAServerCertificateTheClusterCADidNotSign() async throws {
        let token = Self.secret()
        let cluster = try TokenCluster(serverToken: token, fileToken: token, signedByOtherCA: true)
        let client = try KubeHTTPClient(endpoint: cluster.endpoint(), group: MultiThreadedEventLoopGroup.singleton)
        do {
            let answer = try await client.getAll("/api/v1/pods", timeout: .seconds(5))
            Issue.record("an impostor answered: HTTP \(answer.status)")
        } catch let error as TLSError {
            #expect(error.kind == .handshake)
            #expect(error.description.hasPrefix("TLS: handshake with server failed: peer certificate: "), "\(error)")
            #expect(!error.description.contains(token))
        }

        // The source keeps refusing and says why; nothing ever reaches the server, and what
        // the impostor saw of each connection was a TLS handshake, never a plaintext request.
        let store = TopologyStore()
        let log = LogCollector()
        let source = try cluster.source(store, log: log)
        source.start()
        defer { source.stop() }
        #expect(await eventually { source.counters.watchFailures >= 8 })
        #expect(!source.isSynced && store.state.pods.isEmpty)
        #expect(log.all.contains { $0.contains("pods: TLS: handshake with server failed: peer certificate") }, "\(log.all)")
        #expect(cluster.server.requests.isEmpty)
        let firstBytes = cluster.terminator.lines.filter { $0.hasPrefix("first-byte") }
        #expect(!firstBytes.isEmpty && Set(firstBytes) == ["first-byte 22"], "\(firstBytes)")
        #expect(!cluster.terminator.lines.contains { $0.hasPrefix("handshake-ok") })
        #expect(!log.all.contains { $0.contains(token) })
    }

    @Test func aRefusedTokenGivesAClearErrorThatNeverShowsTheToken() async throws {
        let wrong = Self.secret()
        let cluster = try TokenCluster(serverToken: Self.secret(), fileToken: wrong)
        let store = TopologyStore()
        let log = LogCollector()
        let source = try cluster.source(store, log: log)
        source.start()
        defer { source.stop() }
        #expect(await eventually { source.counters.watchFailures >= 8 })
        #expect(!source.isSynced && store.state.pods.isEmpty)
        let refused = log.all.filter { $0.contains("HTTP 401") }
        #expect(!refused.isEmpty, "\(log.all)")
        #expect(refused.allSatisfy { $0.contains("list answered HTTP 401 Unauthorized") && $0.contains("token") }, "\(refused)")
        #expect(!log.all.contains { $0.contains(wrong) }, "the token must not be logged")
        #expect(Set(cluster.server.authorizations) == ["Bearer \(wrong)"], "it was sent, to the server only")
    }
}
