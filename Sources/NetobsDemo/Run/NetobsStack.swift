import Foundation
import NodeLab
#if canImport(Glibc)
import Glibc
#endif

/// netobs itself for the demo, on the host like a DaemonSet with hostNetwork: the controller
/// (with the file topology when it takes one), a consumer writing the joined stream to
/// records.jsonl, and one agent. Each runs in a cgroup below the lab's, so the lab's teardown
/// (also at Ctrl-C, and the next run's janitor after a SIGKILL) stops whatever is left.
final class NetobsStack: @unchecked Sendable {
    struct Settings: Sendable {
        var node = "demo-node"
        var interval = "1s"
    }

    let tools: NetobsTools
    let layout: DemoLayout
    let settings: Settings
    /// The controller's web dashboard (plaintext, loopback only) once started.
    private(set) var dashboardURL: String?
    private var controller: LabProcess?
    private var tail: LabProcess?
    private var agent: LabProcess?
    private let lab: NodeLab

    init(tools: NetobsTools, layout: DemoLayout, lab: NodeLab, settings: Settings) {
        self.tools = tools
        self.layout = layout
        self.lab = lab
        self.settings = settings
    }

    /// Certificates, controller, consumer, then the agent once the consumer listens (the stream
    /// has no replay, so nothing the agent sends is missed).
    func start(say: (String) -> Void) throws {
        let certs = try Shell.run([tools.netobs, "certs", "init", "--dir", layout.certs, "--agent-node", settings.node], timeout: .seconds(60))
        guard certs.status == 0 else { throw DemoError("netobs certs init failed: \(certs.stderr)\(certs.stdout)") }

        let port = try Self.freePort()
        let endpoint = "127.0.0.1:\(port)"
        var webPort = try Self.freePort()
        while webPort == port { webPort = try Self.freePort() }
        dashboardURL = "http://127.0.0.1:\(webPort)/"
        // The controller and the consumer writing records.jsonl are the demo's recorder: ahead of
        // whatever else runs on the machine (nice -5), so that a busy machine does not make the
        // controller drop records for a consumer that reads too slowly (they would be missing
        // from the recorded run, not from the system under test).
        let controller = try spawn("controller", Self.recorder + [tools.netobs, "controller", "--listen", endpoint, "--data", layout.controllerData,
                                                  "--certs", layout.certs, "--topology-file", layout.topology,
                                                  "--http-listen", "127.0.0.1:\(webPort)", "--http-plaintext-loopback"])
        self.controller = controller
        try LogFiles.wait(for: "listening on", in: layout.log("controller"), from: controller, what: "netobs controller")

        let tail = try spawn("tail", Self.recorder + [tools.netobs, "tail", "--controller", endpoint, "--certs", layout.certs, "--output", "json"],
                             stdout: layout.records)
        self.tail = tail
        try LogFiles.wait(for: "connected to controller", in: layout.log("tail"), from: tail, what: "netobs tail")

        let agent = try spawn("agent", [tools.agent, "--controller", endpoint, "--certs", layout.certs, "--spool", layout.spool,
                                        "--node", settings.node, "--interval", settings.interval])
        self.agent = agent
        try LogFiles.wait(for: "collecting on node", in: layout.log("agent"), from: agent, what: "netobs-agent", timeout: 60)
        say("netobs: controller on \(endpoint), agent on node \(settings.node) every \(settings.interval), stream -> \(layout.records)")
        say("netobs: dashboard at \(dashboardURL ?? "") (this machine only)")
    }

    func checkAlive() throws {
        for (name, process) in [("controller", controller), ("tail", tail), ("agent", agent)] {
            if let process, let ended = process.termination {
                throw DemoError("netobs \(name) ended unexpectedly (\(ended))\n" + LogFiles.tail(layout.log(name)))
            }
        }
    }

    /// The agent first (SIGINT: it flushes and drains its spool to the controller), then the
    /// consumer once the stream has gone quiet, then the controller.
    func stop(recordsQuietFor quiet: TimeInterval = 1.5, maxWait: TimeInterval = 15) {
        if let agent {
            agent.signal(SIGINT)
            if (try? agent.waitUntilExit(timeout: .seconds(15))) == nil { agent.terminate() }
        }
        if let tail {
            var lastSize = -1
            var stableSince = Date()
            let deadline = Date().addingTimeInterval(maxWait)
            while Date() < deadline {
                let size = (try? FileManager.default.attributesOfItem(atPath: layout.records)[.size] as? Int) ?? 0
                if size != lastSize { lastSize = size; stableSince = Date() }
                if Date().timeIntervalSince(stableSince) >= quiet { break }
                Thread.sleep(forTimeInterval: 0.1)
            }
            tail.terminate()
        }
        controller?.signal(SIGINT)
        if let controller, (try? controller.waitUntilExit(timeout: .seconds(10))) == nil { controller.terminate() }
    }

    /// Starts `argv` on the host in `<lab cgroup>/system/<name>`; stdout to `stdout` or, like
    /// stderr, to logs/<name>.log.
    private func spawn(_ name: String, _ argv: [String], stdout: String? = nil) throws -> LabProcess {
        let cgroup = lab.cgroupRoot + "/system/" + name
        try FileManager.default.createDirectory(atPath: cgroup, withIntermediateDirectories: true)
        let log = layout.log(name)
        let script = stdout == nil
            ? #"echo $$ > "$0" && log=$1 && shift && exec "$@" >"$log" 2>&1"#
            : #"echo $$ > "$0" && log=$1 && out=$2 && shift 2 && exec "$@" >"$out" 2>"$log""#
        return try Shell.spawn(["/bin/sh", "-c", script, cgroup + "/cgroup.procs", log] + (stdout.map { [$0] } ?? []) + argv,
                               stdout: .discard, stderr: .discard)
    }

    static let recorder = ["/usr/bin/nice", "-n", "-5"]

    /// A port on 127.0.0.1 nobody listens on, below the ephemeral range (so no outgoing
    /// connection takes it meanwhile).
    static func freePort() throws -> Int {
        for port in (17000...17999).shuffled().prefix(50) {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            guard fd >= 0 else { continue }
            defer { close(fd) }
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = in_port_t(UInt16(port).bigEndian)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            let bound = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            if bound == 0 { return port }
        }
        throw DemoError("no free port in 17000-17999 on 127.0.0.1 for the controller")
    }
}
