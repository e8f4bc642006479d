import Foundation
import Testing
@testable import NetobsTopology

/// `$KUBECONFIG` with several files, merged as kubectl merges them.
@Suite struct KubeconfigMergeTests {
    let root = NSTemporaryDirectory() + "netobs-kcm-\(UUID().uuidString)"

    func write(_ relative: String, _ text: String) throws -> String {
        let path = root + "/" + relative
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func files() throws -> (a: String, b: String) {
        let a = try write("a/config", """
        current-context: from-a
        clusters: [{name: prod, cluster: {server: "https://a.example:6443", certificate-authority: ca.crt}}]
        users: [{name: alice, user: {token: alice-token}}]
        contexts: [{name: from-a, context: {cluster: prod, user: alice}}]
        """)
        let b = try write("b/config", """
        current-context: from-b
        clusters:
        - {name: prod, cluster: {server: "https://b.example:6443", certificate-authority: other-ca.crt}}
        - {name: staging, cluster: {server: "https://staging.example", certificate-authority: staging-ca.crt}}
        users:
        - {name: alice, user: {token: shadowed}}
        - {name: bob, user: {tokenFile: bob.token}}
        contexts:
        - {name: from-a, context: {cluster: staging, user: bob}}
        - {name: from-b, context: {cluster: prod, user: bob}}
        - {name: staging, context: {cluster: staging, user: bob}}
        """)
        return (a, b)
    }

    @Test("the first file to name a cluster, user, context or current-context wins; paths stay relative to their file")
    func firstWins() throws {
        let (a, b) = try files()
        let env = ["KUBECONFIG": "\(a):\(root)/missing:\(b)"]
        let current = try KubeEndpoint.kubeconfigFromEnvironment(environment: env)
        #expect(current.host == "a.example" && current.certificateAuthority == .file(root + "/a/ca.crt"))
        guard case .token("alice-token") = current.credentials else { Issue.record("alice of file a"); return }
        // from-b: its context and user are b's, its cluster "prod" is a's.
        let mixed = try KubeEndpoint.kubeconfigFromEnvironment(context: "from-b", environment: env)
        #expect(mixed.host == "a.example")
        guard case .tokenFile(let file) = mixed.credentials else { Issue.record("bob's token file"); return }
        #expect(file == root + "/b/bob.token")
        let staging = try KubeEndpoint.kubeconfigFromEnvironment(context: "staging", environment: env)
        #expect(staging.host == "staging.example" && staging.port == 443 && staging.certificateAuthority == .file(root + "/b/staging-ca.crt"))
        // The other order: b's current context and definitions win.
        let reversed = try KubeEndpoint.kubeconfigFromEnvironment(environment: ["KUBECONFIG": "\(b):\(a)"])
        #expect(reversed.host == "b.example")
        // --kubeconfig takes the same list, but every file must exist.
        #expect(try KubeEndpoint.kubeconfig(path: "\(a):\(b)", context: "staging").host == "staging.example")
        #expect(throws: TopologyError("cannot read kubeconfig \(root)/missing")) { try KubeEndpoint.kubeconfig(path: "\(a):\(root)/missing") }
    }

    @Test func defaultsAndErrors() throws {
        let (a, _) = try files()
        try FileManager.default.createDirectory(atPath: root + "/home/.kube", withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: a, toPath: root + "/home/.kube/config")
        let home = try KubeEndpoint.kubeconfigFromEnvironment(environment: ["HOME": root + "/home"])
        #expect(home.host == "a.example" && home.certificateAuthority == .file(root + "/home/.kube/ca.crt"))
        #expect(try KubeEndpoint.kubeconfigFromEnvironment(environment: ["HOME": root + "/home", "KUBECONFIG": ""]).host == "a.example")
        #expect(throws: TopologyError("no kubeconfig: none of \(root)/x, \(root)/y exists")) {
            try KubeEndpoint.kubeconfigFromEnvironment(environment: ["KUBECONFIG": "\(root)/x:\(root)/y"])
        }
        let usersOnly = try write("c/config", "users: [{name: carol, user: {token: c}}]\n")
        #expect(throws: TopologyError("kubeconfig \(usersOnly): no current-context; name one")) {
            try KubeEndpoint.kubeconfigFromEnvironment(environment: ["KUBECONFIG": usersOnly])
        }
        #expect(throws: TopologyError("kubeconfig \(usersOnly):\(a): no context \"nope\"")) {
            try KubeEndpoint.kubeconfigFromEnvironment(context: "nope", environment: ["KUBECONFIG": "\(usersOnly):\(a)"])
        }
        let options = TopologySourceOptions(kubeconfigFromEnvironment: true, kubeContext: "x")
        try options.validate()
        #expect(options.isEnabled)
        #expect(throws: TopologyError.self) { try TopologySourceOptions(kubeconfig: a, kubeconfigFromEnvironment: true).validate() }
    }
}
