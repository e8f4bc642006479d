import Foundation
import Testing
@testable import NetobsTopology

@Suite struct KubeConfigTests {
    func write(_ text: String) throws -> String {
        let directory = NSTemporaryDirectory() + "netobs-kc-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try text.write(toFile: directory + "/config", atomically: true, encoding: .utf8)
        return directory + "/config"
    }

    @Test func tokenUsersAndRelativeFiles() throws {
        let path = try write("""
        current-context: a
        clusters: [{name: c, cluster: {server: "https://[fd00::1]:6443", certificate-authority: ca.crt}}]
        users: [{name: u, user: {tokenFile: token}}, {name: v, user: {token: abc}}]
        contexts: [{name: a, context: {cluster: c, user: u}}, {name: b, context: {cluster: c, user: v}}]
        """)
        let directory = (path as NSString).deletingLastPathComponent
        let a = try KubeEndpoint.kubeconfig(path: path)
        #expect(a.host == "fd00::1" && a.port == 6443 && a.certificateAuthority == .file(directory + "/ca.crt"))
        guard case .tokenFile(let file) = a.credentials else { Issue.record("not a token file"); return }
        #expect(file == directory + "/token")
        guard case .token("abc") = try KubeEndpoint.kubeconfig(path: path, context: "b").credentials else {
            Issue.record("context b should use its token"); return
        }
    }

    @Test func clearErrors() throws {
        let insecure = try write("""
        current-context: a
        clusters: [{name: c, cluster: {server: "https://k:6443", insecure-skip-tls-verify: true}}]
        users: [{name: u, user: {token: t}}]
        contexts: [{name: a, context: {cluster: c, user: u}}]
        """)
        #expect(throws: TopologyError("kubeconfig \(insecure): insecure-skip-tls-verify is not supported; give the cluster CA")) {
            try KubeEndpoint.kubeconfig(path: insecure)
        }
        #expect(throws: TopologyError("kubeconfig \(insecure): no context \"zz\"")) {
            try KubeEndpoint.kubeconfig(path: insecure, context: "zz")
        }
        #expect(throws: TopologyError("--in-cluster: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT are not set (not running in a pod?)")) {
            try KubeEndpoint.inCluster(environment: [:])
        }
        #expect(throws: TopologyError("choose one topology source: --topology-file, --kubeconfig, --kubeconfig-from-env or --in-cluster")) {
            try TopologySourceOptions(topologyFile: "x", inCluster: true).validate()
        }
    }

    @Test func workloadsFollowTheirController() {
        func workload(_ kind: String, _ name: String, hash: String? = nil) -> String {
            KubePod.workload(KubeMetadata(labels: hash.map { ["pod-template-hash": $0] },
                                          ownerReferences: [.init(kind: kind, name: name, controller: true)]))
        }
        #expect(workload("ReplicaSet", "carts-5d9f8c7b6", hash: "5d9f8c7b6") == "deployment/carts")
        #expect(workload("ReplicaSet", "bare-rs") == "replicaset/bare-rs")
        #expect(workload("Job", "backup-28901234") == "cronjob/backup")
        #expect(workload("Job", "migrate") == "job/migrate")
        #expect(workload("DaemonSet", "netobs-agent") == "daemonset/netobs-agent")
        #expect(KubePod.workload(KubeMetadata()) == "")
    }
}
