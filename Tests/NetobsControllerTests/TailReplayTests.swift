import Foundation
import Testing
import NetobsAgentLink
import NetobsController
import NetobsTLS
import NetobsTestSupport
import NetobsWire

/// Record `i` of the test stream: namespaces take turns, so a namespace filter selects every third.
private func numbered(_ i: Int) -> [UInt8] {
    let ns = ["shop", "db", "payments"][i % 3]
    return Array(#"{"kind":"http","i":\#(i),"src_ns":"\#(ns)","src_pod":"front-1","dst_ns":"\#(ns)","dst_pod":"carts-1","http_status_code":200}"#.utf8)
}

private func number(_ line: some StringProtocol) -> Int? {
    guard let o = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else { return nil }
    return o["i"] as? Int
}

/// `netobs tail` as a process; its stdout lines as they come.
private final class TailProcess: Sendable {
    private let captured: CapturedProcess
    var process: Process { captured.process }

    init(_ arguments: [String]) throws {
        captured = try CapturedProcess(ControllerProcess.binary, ["tail"] + arguments)
    }

    var numbers: [Int] { captured.stdoutText.split(separator: "\n").compactMap(number) }
    var stderr: String { captured.stderrText }
    func stop() { captured.stop() }
}

@Suite("netobs tail --last: recent records, then the live ones, over mutual TLS", .serialized)
struct TailReplayTests {
    let pki: PKI
    init() throws { pki = try PKI() }

    private func uplink(_ controller: Controller) throws -> AgentUplink {
        let uplink = AgentUplink(endpoint: ControllerEndpoint(host: "127.0.0.1", port: controller.port, tls: try pki.clientContext(.agent)),
                                 spool: try Spool(directory: temporaryDirectory("spool"), agentId: "node-1"),
                                 node: AgentIdentity(nodeName: "node-1", agentVersion: "test", kernelRelease: "test"),
                                 backoff: Backoff(baseMs: 20, capMs: 200, floorMs: 10), log: { _ in })
        uplink.start()
        return uplink
    }

    /// Publishes records `range`, 10 per agent batch, and waits until the controller published them.
    private func publish(_ range: Range<Int>, through uplink: AgentUplink, _ controller: Controller) async throws {
        for start in stride(from: range.lowerBound, to: range.upperBound, by: 10) {
            _ = try uplink.submit(records: (start..<min(start + 10, range.upperBound)).map(numbered))
        }
        #expect(await uplink.drain(timeoutMs: 15_000))
        #expect(await eventually { controller.hub.stats.publishedRecords >= UInt64(range.upperBound) })
    }

    /// ca.pem, consumer.pem and consumer-key.pem, as `netobs certs init` names them.
    private func consumerFiles() throws -> String {
        let dir = temporaryDirectory("certs")
        let pair: PKI.Pair = try CertificateFactory.issue(CertificateRequest(commonName: "tail", usage: .client, role: .consumer), by: pki.ca)
        try Data(pki.ca.certificate.pem).write(to: URL(fileURLWithPath: dir + "/ca.pem"))
        try Data(pair.certificate.pem).write(to: URL(fileURLWithPath: dir + "/consumer.pem"))
        try Data(pair.key.pkcs8PEM).write(to: URL(fileURLWithPath: dir + "/consumer-key.pem"))
        return dir
    }

    @Test("replayed and live records meet with no gap and no duplicate while an agent keeps publishing")
    func boundaryWhilePublishing() async throws {
        let controller = try await startController(pki, data: temporaryDirectory("data"))
        let uplink = try uplink(controller)
        try await publish(0..<300, through: uplink, controller)

        final class Got: @unchecked Sendable {
            let lock = NSLock()
            var replayed: [Int] = []
            var live: [Int] = []
            var ended = false
            var batches: [StreamBatch] = []
        }
        let got = Got()
        let consumer = ConsumerStream(
            endpoint: ControllerEndpoint(host: "127.0.0.1", port: controller.port, tls: try pki.clientContext(.consumer)),
            filter: Subscribe(namespace: "shop", replayLast: 20), log: { _ in },
            onBatch: { batch in
                got.lock.withLock {
                    let numbers = batch.records.compactMap { number(String(decoding: $0, as: UTF8.self)) }
                    if got.ended { got.live += numbers } else { got.replayed += numbers }
                    if batch.replayEnd { got.ended = true }
                    got.batches.append(batch)
                }
            })
        // The agent keeps publishing while the consumer connects and subscribes, and goes on after.
        consumer.start()
        for start in stride(from: 300, to: 900, by: 10) {
            _ = try uplink.submit(records: (start..<start + 10).map(numbered))
            try await Task.sleep(for: .milliseconds(2))
            if start == 600 { #expect(await eventually { controller.hub.count == 1 }) }
        }
        #expect(await uplink.drain(timeoutMs: 15_000))

        let shop = (0..<900).filter { $0 % 3 == 0 }
        #expect(await eventually { got.lock.withLock { got.ended && (got.replayed + got.live).last == shop.last } })
        try await Task.sleep(for: .milliseconds(200))  // nothing more may follow
        got.lock.withLock {
            #expect(got.replayed.count == 20)
            #expect(!got.live.isEmpty, "records published after the subscription arrive live")
            let seen = got.replayed + got.live
            // Contiguous in the publish order, ending at the last record: no gap, no duplicate.
            #expect(seen == Array(shop.suffix(seen.count)), "replayed \(got.replayed), live \(got.live.prefix(10))…")
            #expect(got.replayed.last.map { $0 >= 297 } == true, "the replay holds the records published before it")
            #expect(got.batches.map(\.sequence) == Array(1...UInt64(got.batches.count)))
            #expect(got.batches.allSatisfy { $0.dropped == 0 })
        }
        await consumer.stop()
        await uplink.stop()
        await controller.stop()
    }

    @Test("netobs tail --last N --no-follow prints exactly the last N matching records, oldest first, and exits")
    func cliNoFollow() async throws {
        let controller = try await startController(pki, data: temporaryDirectory("data"))
        let uplink = try uplink(controller)
        try await publish(0..<120, through: uplink, controller)
        let certs = try consumerFiles()
        let tail = try TailProcess(["--controller", "127.0.0.1:\(controller.port)", "--certs", certs, "--json",
                                    "--namespace", "db", "--last", "6", "--no-follow"])
        #expect(await eventually { !tail.process.isRunning })
        tail.stop()
        #expect(tail.process.terminationStatus == 0, "stderr: \(tail.stderr)")
        #expect(tail.numbers == [103, 106, 109, 112, 115, 118], "stderr: \(tail.stderr)")
        await uplink.stop()
        await controller.stop()
    }

    @Test("netobs tail --last N follows after the replay: recent records first, then each new one once")
    func cliFollows() async throws {
        let controller = try await startController(pki, data: temporaryDirectory("data"))
        let uplink = try uplink(controller)
        try await publish(0..<60, through: uplink, controller)
        let certs = try consumerFiles()
        let tail = try TailProcess(["--controller", "127.0.0.1:\(controller.port)", "--certs", certs, "-o", "jsonl",
                                    "--namespace", "payments", "--last", "4"])
        #expect(await eventually { tail.numbers.count == 4 }, "stderr: \(tail.stderr)")
        #expect(tail.numbers == [50, 53, 56, 59])
        try await publish(60..<90, through: uplink, controller)
        let expected = [50, 53, 56, 59] + (60..<90).filter { $0 % 3 == 2 }
        #expect(await eventually { tail.numbers.count >= expected.count })
        try await Task.sleep(for: .milliseconds(200))
        #expect(tail.numbers == expected, "stderr: \(tail.stderr)")
        #expect(tail.process.isRunning)
        tail.stop()
        await uplink.stop()
        await controller.stop()
    }

    @Test("netobs tail --since/--until with --not: the held records of the window, then it exits")
    func cliTimeWindowAndNegation() async throws {
        let controller = try await startController(pki, data: temporaryDirectory("data"))
        let uplink = try uplink(controller)
        for start in stride(from: 0, to: 60, by: 10) { _ = try uplink.submit(records: Array(TailRecords.all[start..<start + 10])) }
        #expect(await uplink.drain(timeoutMs: 15_000))
        #expect(await eventually { controller.hub.stats.publishedRecords >= 60 })
        let certs = try consumerFiles()
        let tail = try TailProcess(["--controller", "127.0.0.1:\(controller.port)", "--certs", certs, "-o", "jsonl",
                                    "--since", "2025-11-29T01:30:45Z", "--until", "2025-11-29T01:31:00Z", "--not", "--from-pod", "wrk"])
        #expect(await eventually { !tail.process.isRunning })
        tail.stop()
        #expect(tail.process.terminationStatus == 0, "stderr: \(tail.stderr)")
        #expect(tail.numbers == (30...45).filter { $0 % 3 != 2 }, "stderr: \(tail.stderr)")
        await uplink.stop()
        await controller.stop()
    }

    @Test("netobs tail with from/to filters follows: the last matching ones, then each new match once")
    func cliFollowsWithNewFilters() async throws {
        let controller = try await startController(pki, data: temporaryDirectory("data"))
        let uplink = try uplink(controller)
        _ = try uplink.submit(records: Array(TailRecords.all[0..<30]))
        #expect(await uplink.drain(timeoutMs: 15_000))
        #expect(await eventually { controller.hub.stats.publishedRecords >= 30 })
        let certs = try consumerFiles()
        let tail = try TailProcess(["--controller", "127.0.0.1:\(controller.port)", "--certs", certs, "-o", "json",
                                    "--from-pod", "shop/front-end", "--to-port", "8080", "--to-port", "3306", "--last", "2"])
        let wanted = { (i: Int) in i % 3 == 0 && (i / 3) % 3 != 1 }
        let before = (0..<30).filter(wanted).suffix(2)
        #expect(await eventually { tail.numbers.count == 2 }, "stderr: \(tail.stderr)")
        _ = try uplink.submit(records: Array(TailRecords.all[30..<60]))
        #expect(await uplink.drain(timeoutMs: 15_000))
        let expected = Array(before) + (30..<60).filter(wanted)
        #expect(await eventually { tail.numbers.count >= expected.count })
        try await Task.sleep(for: .milliseconds(200))
        #expect(tail.numbers == expected, "stderr: \(tail.stderr)")
        tail.stop()
        await uplink.stop()
        await controller.stop()
    }
}
