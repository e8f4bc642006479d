import Foundation
import Testing
import NetobsNATS
import Synchronization

/// A real nats-server with JetStream on a loopback port (scripts/setup.sh installs it).
final class NATSServerProcess: @unchecked Sendable {
    let process = Process()
    let port = Int.random(in: 20_000...32_000)
    let directory = NSTemporaryDirectory() + "netobs-nats-\(UUID().uuidString)"

    init(extra: [String] = []) throws {
        try #require(FileManager.default.isExecutableFile(atPath: "/usr/sbin/nats-server"),
                     "nats-server is missing: scripts/setup.sh installs Debian's nats-server")
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        process.executableURL = URL(fileURLWithPath: "/usr/sbin/nats-server")
        process.arguments = ["-a", "127.0.0.1", "-p", String(port), "-js", "-sd", directory] + extra
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
    }

    func connect(_ options: NATSConnection.Options = .init()) async throws -> NATSConnection {
        var lastError: (any Error)?
        for _ in 0..<50 {  // the server takes a moment to listen
            do { return try await NATSConnection.connect(host: "127.0.0.1", port: port, options: options) } catch { lastError = error }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw lastError!
    }

    func stop() {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        try? FileManager.default.removeItem(atPath: directory)
    }
}

@Suite("JetStream against a real nats-server", .serialized)
struct JetStreamServerTests {
    @Test func publishesAreStoredOnceAndDuplicatesAreAcknowledgedWithoutStoring() async throws {
        let server = try NATSServerProcess()
        defer { server.stop() }
        let nats = try await server.connect()
        #expect(nats.serverInfo.contains("\"jetstream\":true"), "\(nats.serverInfo)")
        let js = JetStream(nats)
        try await js.createStream(.init(name: "FLOWS", subjects: ["netobs.flows.>"]))
        try await js.createStream(.init(name: "FLOWS", subjects: ["netobs.flows.>"]))  // again: no error

        var sequences: [UInt64] = []
        for i in 1...500 {
            let ack = try await js.publish("netobs.flows.node-1", payload: Array("batch \(i)".utf8), messageId: "node-1:\(i)")
            #expect(ack.stream == "FLOWS" && !ack.duplicate)
            sequences.append(ack.sequence)
        }
        #expect(sequences == Array(1...500))
        // An agent resending after a lost ack: the same ids are duplicates, nothing new is stored.
        for i in [1, 250, 500] {
            let ack = try await js.publish("netobs.flows.node-1", payload: Array("batch \(i)".utf8), messageId: "node-1:\(i)")
            #expect(ack.duplicate && ack.sequence == UInt64(i))
        }
        let state = try await js.streamState("FLOWS")
        #expect(state.messages == 500 && state.lastSequence == 500)
        await nats.close()
    }

    @Test func subscriptionsGetWhatIsPublishedInOrder() async throws {
        let server = try NATSServerProcess()
        defer { server.stop() }
        let (publisher, subscriber) = (try await server.connect(), try await server.connect())
        let got = Mutex<[String]>([])
        _ = try await subscriber.subscribe("netobs.test") { message in got.withLock { $0.append(String(decoding: message.payload, as: UTF8.self)) } }
        try await subscriber.flush()
        for i in 0..<1000 { try await publisher.publish("netobs.test", payload: Array("m\(i)".utf8)) }
        try await publisher.flush()
        let deadline = ContinuousClock.now + .seconds(10)
        while got.withLock({ $0.count }) < 1000 && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
        #expect(got.withLock { $0 } == (0..<1000).map { "m\($0)" })
    }

    @Test func aSubjectNoStreamStoresIsAnErrorAndTheConnectionStays() async throws {
        let server = try NATSServerProcess()
        defer { server.stop() }
        let nats = try await server.connect()
        let js = JetStream(nats)
        await #expect(throws: JetStream.APIError.self) { _ = try await js.publish("nowhere", payload: [1]) }
        try await nats.flush()  // still usable
    }

    @Test func wrongCredentialsAreRefusedClearly() async throws {
        let server = try NATSServerProcess(extra: ["--user", "netobs", "--pass", "s3cret"])
        defer { server.stop() }
        var wrong = NATSConnection.Options()
        (wrong.user, wrong.password) = ("netobs", "nope")
        var refusal: String?
        for _ in 0..<50 {
            do {
                _ = try await NATSConnection.connect(host: "127.0.0.1", port: server.port, options: wrong)
                refusal = "connected"
                break
            } catch let error as NATSProtocolError {
                refusal = error.description
                if error.description.contains("Authorization") { break }
            } catch {
                try await Task.sleep(for: .milliseconds(100))
            }
        }
        #expect(refusal?.contains("Authorization Violation") == true, "\(refusal ?? "nil")")
        var right = NATSConnection.Options()
        (right.user, right.password) = ("netobs", "s3cret")
        let nats = try await server.connect(right)
        try await nats.flush()
    }

    @Test func aTLSContextAgainstAPlaintextServerIsRefused() async throws {
        let server = try NATSServerProcess()
        defer { server.stop() }
        _ = try await server.connect()  // listening
        let pki = try TestPKI()
        var options = NATSConnection.Options()
        options.tls = try pki.clientContext()
        await #expect(throws: NATSProtocolError.self) {
            _ = try await NATSConnection.connect(host: "127.0.0.1", port: server.port, options: options)
        }
    }
}

@Suite("NATS over mutual TLS", .serialized)
struct NATSTLSTests {
    @Test func jetStreamOverMutualTLSOnTheProjectsEngine() async throws {
        let pki = try TestPKI()
        let server = try NATSServerProcess(extra: ["--tls", "--tlscert", pki.serverCertFile, "--tlskey", pki.serverKeyFile,
                                                   "--tlsverify", "--tlscacert", pki.caFile])
        defer { server.stop() }
        var options = NATSConnection.Options()
        options.tls = try pki.clientContext()
        options.tlsServerName = "127.0.0.1"
        let nats = try await server.connect(options)
        let js = JetStream(nats)
        try await js.createStream(.init(name: "TLS", subjects: ["netobs.tls"]))
        let ack = try await js.publish("netobs.tls", payload: Array("over TLS".utf8), messageId: "m1")
        #expect(ack.sequence == 1 && !ack.duplicate)
        // Without TLS the server refuses (it requires TLS): no plaintext fallback on either side.
        await #expect(throws: (any Error).self) {
            _ = try await NATSConnection.connect(host: "127.0.0.1", port: server.port)
        }
    }
}
