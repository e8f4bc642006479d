import Foundation
import Testing
import NetobsAgentLink
import NetobsController
import NetobsTLS
import NetobsWire

/// The real `netobs controller`, run as a child process and SIGKILLed mid-stream.
final class ControllerProcess: @unchecked Sendable {
    let process = Process()
    private let err = Pipe()
    private let lock = NSLock()
    private var stderrText = ""

    static var binary: String {
        var dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        while dir.path != "/" {
            let candidate = dir.appendingPathComponent("netobs")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate.path }
            dir = dir.deletingLastPathComponent()
        }
        return ".build/debug/netobs"
    }

    init(port: Int, data: String, certs: String, extraArguments: [String] = []) throws {
        process.executableURL = URL(fileURLWithPath: Self.binary)
        process.arguments = ["controller", "--listen", "127.0.0.1:\(port)", "--data", data, "--certs", certs] + extraArguments
        process.standardError = err
        process.standardOutput = FileHandle.nullDevice
        err.fileHandleForReading.readabilityHandler = { [weak self] h in
            let text = String(decoding: h.availableData, as: UTF8.self)
            self?.lock.withLock { self?.stderrText += text }
        }
        try process.run()
    }

    var stderr: String { lock.withLock { stderrText } }

    func kill() {
        Foundation.kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }
}

/// curl's body and status code (" 200") for a plain-HTTP GET; through a file, not a pipe.
func plainGet(_ url: String) throws -> String {
    let file = temporaryDirectory("curl") + "/out"
    FileManager.default.createFile(atPath: file, contents: nil)
    let curl = Process()
    curl.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
    curl.arguments = ["-s", "--max-time", "5", "-w", " %{http_code}", url]
    curl.standardOutput = FileHandle(forWritingAtPath: file)
    try curl.run()
    curl.waitUntilExit()
    return try String(contentsOfFile: file, encoding: .utf8)
}

@Suite("controller process killed with SIGKILL", .serialized)
struct ProcessRestartTests {
    @Test("SIGINT and SIGTERM stop the controller cleanly (logging text, then JSON lines)")
    func stopsOnSignals() async throws {
        let certs = temporaryDirectory("certs")
        _ = try LocalPKI.create(in: certs, hosts: ["127.0.0.1"], days: 1, force: true, agentNode: "node-k")
        for sig in [SIGINT, SIGTERM] {
            let json = sig == SIGTERM
            let probePort = Int.random(in: 20_000...32_000)
            let controller = try ControllerProcess(port: Int.random(in: 20_000...32_000), data: temporaryDirectory("data"),
                                                   certs: certs, extraArguments: json ? ["--log-format", "json"]
                                                       : ["--health-listen", "127.0.0.1:\(probePort)"])
            #expect(await eventually { controller.stderr.contains("listening") })
            if !json {
                #expect(await eventually { controller.stderr.contains("probes on http://127.0.0.1:\(probePort)") })
                for path in ["/healthz", "/readyz"] {
                    let answer = try plainGet("http://127.0.0.1:\(probePort)\(path)")
                    #expect(answer == "ok\n 200", "\(path): \(answer)")
                }
                #expect(try plainGet("http://127.0.0.1:\(probePort)/v1/records").hasSuffix(" 404"),
                        "records are never served on the probe port")
            }
            Foundation.kill(controller.process.processIdentifier, sig)
            #expect(await eventually(10) { !controller.process.isRunning }, "signal \(sig)")
            if controller.process.isRunning { controller.kill() }
            #expect(controller.process.terminationStatus == 0)
            #expect(controller.stderr.contains("netobs controller: info: stopping") || controller.stderr.contains(#""msg":"stopping""#),
                    "\(controller.stderr)")
            for line in controller.stderr.split(separator: "\n") {
                if json {
                    let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
                    #expect(object?["logger"] as? String == "netobs controller" && object?["msg"] is String, "\(line)")
                } else {
                    #expect(line.hasPrefix("netobs controller: "), "\(line)")
                }
            }
        }
    }

    @Test("SIGKILL twice mid-stream, restart on the same data dir: every batch stored exactly once")
    func sigkill() async throws {
        let certs = temporaryDirectory("certs")
        _ = try LocalPKI.create(in: certs, hosts: ["127.0.0.1"], days: 1, force: true, agentNode: "node-k")
        let data = temporaryDirectory("data")
        let port = Int.random(in: 20_000...40_000)
        var controller = try ControllerProcess(port: port, data: data, certs: certs)
        #expect(await eventually { controller.stderr.contains("listening") })
        let tls = try TLSContext(configuration: .client(trustRoots: .file(certs + "/ca.pem"),
                                                        certificateChain: .file(certs + "/agent.pem"),
                                                        privateKey: .file(certs + "/agent-key.pem")))
        let log = LogLines()
        let agent = AgentUplink(endpoint: ControllerEndpoint(host: "127.0.0.1", port: port, tls: tls),
                                spool: try Spool(directory: temporaryDirectory("spool"), agentId: "node-k"),
                                node: AgentIdentity(nodeName: "node-k", agentVersion: "t", kernelRelease: "t"),
                                backoff: Backoff(baseMs: 20, capMs: 200, floorMs: 10), log: log.sink)
        agent.start()
        var kills = 0
        for i in 1...300 {
            try agent.submit(records: records(batch: i, count: 8))
            if i % 100 == 0 && i < 300 {
                // Mid-flight: the agent has a session and batches are unacknowledged; no warning.
                #expect(await eventually { agent.stats.sessions == kills + 1 })
                controller.kill()
                kills += 1
                controller = try ControllerProcess(port: port, data: data, certs: certs)
                #expect(await eventually { controller.stderr.contains("listening") })
            }
        }
        #expect(await agent.drain(timeoutMs: 30_000))
        controller.kill()
        let entries = try AgentLogStore(directory: data).entries(agentId: "node-k")
        #expect(entries.map(\.sequence) == (1...300).map { UInt64($0) })
        #expect(entries.reduce(0) { $0 + $1.records.count } == 2_400)
        #expect(kills == 2)
        #expect(agent.stats.sessions >= 3)
        print("sigkill test: batches 300, records 2400, kills \(kills), agent stats \(agent.stats)")
        await agent.stop()
    }
}
