import Foundation
import Testing
import NetobsAgentLink
@testable import NetobsController
import NetobsTLS
import NetobsWire

/// A tmpfs of `size` mounted on a fresh temporary directory (root only), unmounted by `remove`.
final class SmallVolume {
    let path: String

    init(size: String) throws {
        path = temporaryDirectory("volume")
        let mount = try Self.run("/usr/bin/mount", ["-t", "tmpfs", "-o", "size=\(size)", "tmpfs", path])
        guard mount.status == 0 else {
            throw VolumeFailure(description: "cannot mount a \(size) tmpfs on \(path) (this test needs root): \(mount.output)")
        }
    }

    var freeBytes: Int {
        var st = statvfs()
        return statvfs(path, &st) == 0 ? Int(st.f_bavail) * Int(st.f_frsize) : 0
    }

    /// Fills the volume until `leave` bytes are free; returns the filler's path.
    func fill(leaving leave: Int) throws -> String {
        let filler = path + "/filler"
        _ = FileManager.default.createFile(atPath: filler, contents: nil)
        let handle = FileHandle(forWritingAtPath: filler)!
        defer { handle.closeFile() }
        while freeBytes > leave {
            try handle.write(contentsOf: Data(repeating: 0, count: min(64 << 10, freeBytes - leave)))
        }
        return filler
    }

    func remove() {
        _ = try? Self.run("/usr/bin/umount", ["-l", path])
        try? FileManager.default.removeItem(atPath: path)
    }

    private static func run(_ tool: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: tool)
        p.arguments = arguments
        let pipe = Pipe()
        p.standardOutput = pipe
        p.standardError = pipe
        try p.run()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self))
    }
}

struct VolumeFailure: Error, CustomStringConvertible { let description: String }

@Suite("durable log on a full disk (a 2 MiB tmpfs)", .serialized)
struct DiskFullTests {
    let pki: PKI
    init() throws { pki = try PKI() }

    @Test("appends fail and are not acknowledged, the controller stays up, agents are held back; with room again every batch is stored once, in order")
    func backpressure() async throws {
        let volume = try SmallVolume(size: "2m")
        defer { volume.remove() }
        let lines = LogLines()
        let controller = try await startController(pki, data: volume.path + "/data", log: lines)
        // The default bound (1 GiB) cannot hold here, and the operator is told so.
        #expect(lines.lines.contains { $0.contains("is above the size of the data volume") })
        let spool = temporaryDirectory("spool")   // the agent's disk is not the full one
        let agentLog = LogLines()
        let agent = AgentUplink(endpoint: ControllerEndpoint(host: "127.0.0.1", port: controller.port,
                                                             tls: try pki.clientContext(.agent)),
                                spool: try Spool(directory: spool, agentId: "node-1"),
                                node: AgentIdentity(nodeName: "node-1", agentVersion: "test", kernelRelease: "test"),
                                backoff: Backoff(baseMs: 20, capMs: 200, floorMs: 10), log: agentLog.sink)
        agent.start()
        // Room for about twelve 10 KB batches.
        let filler = try volume.fill(leaving: 128 << 10)
        let batches = 40
        for i in 1...batches { try agent.submit(records: fixedRecords(batch: i, count: 20)) }

        #expect(await eventually { controller.store.health.failing == .diskFull })
        try await Task.sleep(for: .seconds(2))   // the agent keeps coming back meanwhile
        let stored = try controller.store.entries(agentId: "node-1").map(\.sequence)
        #expect(!stored.isEmpty && stored.count < batches, "\(stored.count) stored")
        #expect(stored == Array(1...UInt64(stored.count)), "a prefix, in order")
        // Nothing past the stored prefix was acknowledged: the spool holds the rest.
        #expect(agent.spool.pending.map(\.sequence) == Array(UInt64(stored.count + 1)...UInt64(batches)))
        #expect(controller.store.stats.appendFailures[.diskFull] ?? 0 >= 1)
        #expect(controller.store.stats.appendsBlocked)
        #expect(controller.counters.storedBatches == stored.count)
        // Told once, clearly; the agent was told why.
        #expect(lines.lines.filter { $0.contains("cannot store batches: disk full") }.count == 1, "\(lines.lines)")
        #expect(agentLog.lines.contains { $0.contains("No space left on device") }, "\(agentLog.lines)")
        // Still serving: a consumer subscribes.
        let consumer = ConsumerStream(endpoint: ControllerEndpoint(host: "127.0.0.1", port: controller.port,
                                                                   tls: try pki.clientContext(.consumer)),
                                      log: { _ in }, onBatch: { _ in })
        consumer.start()
        #expect(await eventually { controller.hub.count == 1 })

        try FileManager.default.removeItem(atPath: filler)
        #expect(await agent.drain(timeoutMs: 30_000))
        let entries = try controller.store.entries(agentId: "node-1")
        #expect(entries.map(\.sequence) == Array(1...UInt64(batches)))
        for e in entries { #expect(e.records == fixedRecords(batch: Int(e.sequence), count: 20)) }
        #expect(controller.counters.storedBatches == batches)
        #expect(controller.store.health.failing == nil && !controller.store.stats.appendsBlocked)
        #expect(lines.lines.contains { $0.contains("storing batches again after") }, "\(lines.lines)")
        await consumer.stop()
        await agent.stop()
        await controller.stop()
    }
}
