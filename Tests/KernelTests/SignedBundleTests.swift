import Foundation
import NetobsPrograms
import NetobsTLS
import NetobsWire
import NodeLab
import Testing

/// The real agent with --operator-key/--program-bundle: SIGHUP loads the bundle only once it
/// verifies; a refused bundle leaves the running programs counting, exactly.
@Suite(.serialized, rootOnly)
struct SignedBundleTests {
    @Test func aVerifiedBundleIsSwappedInAndATamperedOneIsRefused() throws {
        let dir = NSTemporaryDirectory() + "netobs-bundle-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let key = try SigningKey.generate()
        let (pubPath, bundlePath) = (dir + "/operator-key.pub.pem", dir + "/l4.bundle")
        try Data(key.publicKey.pem).write(to: URL(fileURLWithPath: pubPath))
        let good = try BundleSignature.encode(
            BundleSignature.sign(object: EmbeddedPrograms.l4.bytes, name: "l4", version: "1.0.0-test", key: key))
        try BundleSignature.writeFile(good, to: bundlePath)
        var tampered = good
        tampered[tampered.count - 500] ^= 0x01 // a byte of the object
        let foreign = try BundleSignature.encode(
            BundleSignature.sign(object: EmbeddedPrograms.l4.bytes, name: "l4", version: "1.0.0-test",
                                 key: SigningKey.generate()))

        try withLab(pods: 2) { _, pods in
            let (client, server) = (pods[0], pods[1])
            let port = freshPort(), chunks = 120, chunkSize = 40_000
            let agent = try AgentRun(extraArguments: ["--operator-key", pubPath, "--program-bundle", bundlePath])
            let srv = try server.spawn(Peers.tcpServer(ip: server.ipv4, port: port, expect: chunks * chunkSize, reply: 1))
            try srv.waitForOutput("ready")
            let cli = try client.spawn(Peers.tcpPacedClient(ip: server.ipv4, port: port, chunks: chunks,
                                                            chunkSize: chunkSize, pause: 0.025))
            Thread.sleep(forTimeInterval: 0.4)
            agent.send(SIGHUP)
            try agent.waitForStderr("generation 1 is active", timeout: 10)
            #expect(agent.stderrText.contains("l4 version 1.0.0-test"))

            try BundleSignature.writeFile(tampered, to: bundlePath)
            agent.send(SIGHUP)
            try agent.waitForStderr("tampered object", timeout: 10)

            try BundleSignature.writeFile(foreign, to: bundlePath)
            agent.send(SIGHUP)
            try agent.waitForStderr("wrong key", timeout: 10)
            Thread.sleep(forTimeInterval: 0.3)
            #expect(!agent.stderrText.contains("generation 2"), "a refused bundle must not be loaded")
            #expect(agent.stderrText.contains("the running ones stay"))

            // A good bundle again is loaded: the refusals left the agent able to swap.
            try BundleSignature.writeFile(good, to: bundlePath)
            agent.send(SIGHUP)
            try agent.waitForStderr("generation 2 is active", timeout: 10)

            #expect(cli.isRunning, "the transfer must span the swaps")
            try cli.waitUntilExit(timeout: .seconds(30))
            try srv.waitUntilExit(timeout: .seconds(10))
            Thread.sleep(forTimeInterval: 0.3)
            let records = try agent.stop()

            let clientSide = records.toward(kind: "tcp", netns: client.netnsInode, port: port)
            let serverSide = records.local(kind: "tcp", netns: server.netnsInode, port: port)
            #expect(clientSide.sum("tcp_tx_bytes") == UInt64(chunks * chunkSize))
            #expect(serverSide.sum("tcp_rx_bytes") == UInt64(chunks * chunkSize))
            #expect(clientSide.transitions.filter { $0 == "CLOSE>SYN_SENT" }.count == 1)
            #expect(clientSide.transitions.filter { $0.hasSuffix(">CLOSE") }.count == 1)
        }
    }

    @Test func anUnreadableOperatorKeyStopsTheAgentAtStart() throws {
        #expect(throws: (any Error).self) {
            _ = try AgentRun(extraArguments: ["--operator-key", "/nonexistent/pub.pem",
                                              "--program-bundle", "/nonexistent/l4.bundle"])
        }
    }
}
