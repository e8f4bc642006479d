import ArgumentParser
import NetobsAgent
import NetobsKernel
#if canImport(Glibc)
import Glibc
#endif

@main
struct AgentCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "netobs-agent",
        abstract: "eBPF network observability node agent.",
        discussion: """
            Loads the netobs kernel programs (carried inside this binary) and reports every TCP and \
            UDP flow of the node with the process and container that own it.

            With --standalone, records are printed as JSON lines on stdout at each --interval; \
            messages go to stderr. Needs root (or CAP_BPF, CAP_PERFMON, CAP_NET_ADMIN, \
            CAP_SYS_RESOURCE) and a kernel with BTF.
            """)

    @Flag(help: "Run without a controller and print records as JSON lines on stdout.")
    var standalone = false

    @Option(help: "Flush interval, e.g. 1s, 500ms, 2m.", transform: Duration.parse)
    var interval: Duration = .seconds(1)

    @Option(help: "Node name put in every record (default: the host name).")
    var node: String?

    @Option(help: "cgroup v2 mount to attach the UDP address hooks to (default: from /proc/mounts).")
    var cgroupRoot: String?

    @Option(help: "Forget a UDP flow after this long without traffic.", transform: Duration.parse)
    var udpIdleTimeout: Duration = .seconds(60)

    @Option(help: "Capacity of the kernel TCP flow table; flows past it are counted as lost.")
    var maxTcpFlows = 65536

    @Option(help: "Capacity of the kernel UDP flow table; flows past it are counted as lost.")
    var maxUdpFlows = 65536

    @Option(name: .customLong("disable-tracepoint"),
            help: "Do not hook this tracepoint (repeatable); the metrics it feeds are off.")
    var disabledTracepoints: [String] = []

    func validate() throws {
        guard (1...4_000_000).contains(maxTcpFlows), (1...4_000_000).contains(maxUdpFlows) else {
            throw ValidationError("flow table capacities must be between 1 and 4000000")
        }
        guard standalone else {
            throw ValidationError("say --standalone (the controller connection is not available yet)")
        }
        for name in disabledTracepoints where !L4Collector.tracepoints.contains(name) {
            throw ValidationError("unknown tracepoint '\(name)'; the agent hooks: "
                + L4Collector.tracepoints.joined(separator: ", "))
        }
        guard interval.nanoseconds >= 10_000_000 else {
            throw ValidationError("--interval must be at least 10ms")
        }
    }

    func run() throws {
        do {
            try Preflight.check()
            var options = L4Collector.Options(node: node ?? Self.hostName(),
                                              cgroupRoot: cgroupRoot ?? CgroupMount.v2Root(),
                                              udpIdleTimeoutNs: udpIdleTimeout.nanoseconds,
                                              maxTCPFlows: maxTcpFlows, maxUDPFlows: maxUdpFlows)
            options.disabledTracepoints = Set(disabledTracepoints)
            try StandaloneAgent.run(options: options, intervalNs: interval.nanoseconds)
        } catch let failure as Preflight.Failure {
            AgentLog.error(failure.description)
            throw ExitCode(2)
        } catch {
            AgentLog.error("\(error)")
            throw ExitCode(1)
        }
    }

    static func hostName() -> String {
        var buf = [CChar](repeating: 0, count: 256)
        gethostname(&buf, buf.count)
        return String(decoding: buf.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
