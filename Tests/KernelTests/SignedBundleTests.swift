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
            let agent = try AgentRun(extraArguments: ["--operator-key", pubPath, "--program-bundle", bundlePath])
            let transfer = try PacedTransfer(from: client, to: server, chunks: 300)
            Thread.sleep(forTimeInterval: 0.4)
            agent.send(SIGHUP)
            try agent.waitForStderr("l4 generation 1 is active", timeout: 10)
            #expect(agent.stderrText.contains("l4 version 1.0.0-test"))

            try BundleSignature.writeFile(tampered, to: bundlePath)
            agent.send(SIGHUP)
            try agent.waitForStderr("tampered object", timeout: 10)

            try BundleSignature.writeFile(foreign, to: bundlePath)
            agent.send(SIGHUP)
            try agent.waitForStderr("wrong key", timeout: 10)
            Thread.sleep(forTimeInterval: 0.3)
            #expect(!agent.stderrText.contains("l4 generation 2"), "a refused bundle must not be loaded")
            #expect(agent.stderrText.contains("the running ones stay"))

            // A good bundle again is loaded: the refusals left the agent able to swap.
            try BundleSignature.writeFile(good, to: bundlePath)
            agent.send(SIGHUP)
            try agent.waitForStderr("l4 generation 2 is active", timeout: 10)

            #expect(transfer.isRunning, "the transfer must span the swaps")
            try transfer.finishAndCheck(agent)
        }
    }

    @Test func anUnreadableOperatorKeyStopsTheAgentAtStart() throws {
        #expect(throws: (any Error).self) {
            _ = try AgentRun(extraArguments: ["--operator-key", "/nonexistent/pub.pem",
                                              "--program-bundle", "/nonexistent/l4.bundle"])
        }
    }
}
