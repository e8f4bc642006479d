import NetobsBuildInfo
import NetobsLogging
import NetobsProbes
import ArgumentParser
import NetobsAgent
import NetobsKernel
import NetobsAgentLink
import NetobsTLS
import NetobsRecords
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
            messages go to stderr. With --controller HOST:PORT (and --certs, --spool) they are sent \
            to the controller instead, kept in the spool directory until it acknowledges them; rules \
            pushed with `netobs rules push` are applied through the kernel's filter maps, program bundles \
            pushed with `netobs programs push` are verified (--operator-key) and hot-swapped. The \
            certificate's CN must be the node name (--node, default the host name); with \
            --bootstrap-token-file and --ca-file the agent gets that certificate from the controller \
            (and renews it) instead of reading one from --certs. SIGHUP \
            swaps the kernel programs with no gap in the data; with --operator-key and --program-bundle \
            it swaps in the signed bundle's object instead, only once its digest and Ed25519 signature \
            verify. Needs root (or CAP_BPF, CAP_PERFMON, \
            CAP_NET_ADMIN, CAP_SYS_RESOURCE) and a kernel with BTF.

            Hook tiers (--hooks): `btf` uses tp_btf programs and an iterator, which need the kernel \
            to load BPF tracing programs; `portable` uses raw tracepoints and cgroup programs, which \
            need no tracing programs. `auto` (the default) takes btf where the kernel allows it and \
            portable elsewhere; a hook the kernel refuses is turned off, its metrics named, and the \
            rest run. --features prints what this host allows and what auto would pick, as JSON.
            """,
        version: BuildInfo.describe)

    @OptionGroup var log: LogOptions

    @Flag(help: "Print what this kernel allows and which hooks the agent would use, as one JSON object, and exit.")
    var features = false

    @Option(help: ArgumentHelp("File rewritten after every flush with the agent's state, for --probe (e.g. on an emptyDir).",
                               valueName: "file"))
    var statusFile: String?

    @Flag(help: "Liveness/readiness probe: exit 0 when --status-file says the agent flushed recently, else 1 with the reason.")
    var probe = false

    @Option(help: ArgumentHelp("Serve /healthz, /readyz and /metrics (the agent's own series) on plain HTTP here, e.g. 127.0.0.1:9464 or the node's address; nothing else is served. Off when not given.",
                               valueName: "host:port"))
    var healthListen: String?

    @Option(help: "With --probe and on /healthz: the oldest flush that still counts as alive (at least three intervals).",
            transform: Duration.parse)
    var probeMaxAge: Duration = .seconds(15)

    @Option(help: ArgumentHelp("Hook tier: auto (the best the kernel allows), btf, or portable.",
                               valueName: "auto|btf|portable"))
    var hooks: HookTierRequest = .auto

    @Flag(help: "Run without a controller and print records as JSON lines on stdout.")
    var standalone = false

    @Option(help: ArgumentHelp("Send records to this controller instead of printing them.", valueName: "host:port"))
    var controller: String?

    @Option(help: ArgumentHelp("Directory with ca.pem, agent.pem, agent-key.pem (`netobs certs init`); with --bootstrap-token-file, where the agent keeps the certificate it gets (created 0700, files 0600).", valueName: "dir"))
    var certs: String?

    @Option(help: ArgumentHelp("Get this node's certificate from the controller with the bootstrap token in FILE (its first field: ID.SECRET) when --certs holds none usable, and renew it at 2/3 of its validity. Needs --ca-file.", valueName: "file"))
    var bootstrapTokenFile: String?

    @Option(help: ArgumentHelp("The CA the controller's certificate must chain to (default: DIR/ca.pem); pinned for the bootstrap connection.", valueName: "file"))
    var caFile: String?

    @Option(help: ArgumentHelp("The controller's bootstrap listener (default: the --controller host, port 7444).", valueName: "host:port"))
    var bootstrapController: String?

    @Option(help: ArgumentHelp("Spool directory for batches not yet acknowledged by the controller.", valueName: "dir"))
    var spool: String?

    @Option(help: "Largest spool size in MiB; records past it are reported as loss (spool_full).")
    var spoolMaxMb = 256

    @Option(help: "Name the controller's certificate must carry (default: the --controller host).")
    var controllerName: String?

    @Option(help: "Flush interval, e.g. 1s, 500ms, 2m.", transform: Duration.parse)
    var interval: Duration = .seconds(1)

    @Option(help: "Node name put in every record (default: the host name).")
    var node: String?

    @Option(help: "cgroup v2 mount: the cgroup programs (UDP address hooks, HTTP/DNS) attach there, and pod cgroups are read there for pod_uid (default: from /proc/mounts).")
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

    @Flag(name: .customLong("no-l7"),
          help: "Do not load the packet programs (HTTP, DNS, TCP request latency, and the UDP flow counts).")
    var noL7 = false

    @Flag(name: .customLong("no-tls"), help: "Do not probe OpenSSL (uprobes) for HTTP over TLS.")
    var noTLS = false

    @Flag(name: .customLong("no-l4"), help: "Do not load the TCP/UDP flow programs (HTTP and DNS records only).")
    var noL4 = false

    @Option(help: "Scheduling niceness of the agent (0-19): its work waits behind the workloads', and the kernel rings absorb the delay.")
    var nice: Int32 = 10

    @Option(help: "Exemplar http/dns records per interval (errors first); past it they are left out, counted (every exchange is in the aggregates).")
    var l7RecordCap = 10_000

    @Option(help: "Distinct URIs (or DNS names) in an interval's aggregates; past it, \"<other>\" (counted).")
    var l7MaxUris = 1_000

    @Option(help: ArgumentHelp("The operator's Ed25519 public key (`netobs programs keygen`); program bundles must be signed with it.",
                               valueName: "pub.pem"))
    var operatorKey: String?

    @Option(name: .customLong("program-bundle"),
            help: ArgumentHelp("Signed program bundle (`netobs programs sign`) for the object it names (l4 or l7), loaded at each SIGHUP instead of that object's embedded programs; verified first, a refused bundle leaves the running programs. Repeatable, one per object.",
                               valueName: "file"))
    var programBundles: [String] = []

    @Option(help: ArgumentHelp("JSON rules file (ports, cgroups, protocols, sample_every, l7, l7_sample_every, l7_slow_ms) applied through the kernel's filter maps at start and re-read at each SIGHUP; a bad file at SIGHUP keeps the previous rules.",
                               valueName: "file"))
    var rules: String?

    func validate() throws {
        if noL4 && noL7 {
            throw ValidationError("--no-l4 and --no-l7 together leave nothing to collect")
        }
        if !programBundles.isEmpty && operatorKey == nil {
            throw ValidationError("--program-bundle needs --operator-key PUB.pem to verify it")
        }
        guard l7RecordCap >= 0, l7MaxUris >= 1 else {
            throw ValidationError("--l7-record-cap must be >= 0 and --l7-max-uris >= 1")
        }
        guard (1...4_000_000).contains(maxTcpFlows), (1...4_000_000).contains(maxUdpFlows) else {
            throw ValidationError("flow table capacities must be between 1 and 4000000")
        }
        if [standalone, controller != nil, features, probe].filter({ $0 }).count > 1 {
            throw ValidationError("--standalone, --controller, --features and --probe exclude each other")
        }
        guard standalone || controller != nil || features || probe else {
            throw ValidationError("say --standalone, --features, --probe, or --controller HOST:PORT with --certs and --spool")
        }
        if probe && statusFile == nil { throw ValidationError("--probe needs --status-file FILE") }
        if let controller {
            guard ControllerEndpoint.parse(controller) != nil else { throw ValidationError("--controller must be HOST:PORT") }
            guard certs != nil else { throw ValidationError("--controller needs --certs DIR") }
            guard spool != nil else { throw ValidationError("--controller needs --spool DIR") }
            guard spoolMaxMb > 0 else { throw ValidationError("--spool-max-mb must be positive") }
            if bootstrapTokenFile != nil && caFile == nil {
                throw ValidationError("--bootstrap-token-file needs --ca-file CA.pem: the bootstrap connection pins the controller's CA")
            }
            if let bootstrapController, ControllerEndpoint.parse(bootstrapController) == nil {
                throw ValidationError("--bootstrap-controller must be HOST:PORT")
            }
        } else if bootstrapTokenFile != nil || bootstrapController != nil {
            throw ValidationError("--bootstrap-token-file and --bootstrap-controller go with --controller")
        }
        for name in disabledTracepoints where !L4Collector.tracepoints.contains(name) {
            throw ValidationError("unknown tracepoint '\(name)'; the agent hooks: "
                + L4Collector.tracepoints.joined(separator: ", "))
        }
        if let healthListen, ControllerEndpoint.parse(healthListen) == nil {
            throw ValidationError("--health-listen must be HOST:PORT, e.g. 127.0.0.1:9464")
        }
        guard (0...19).contains(nice) else { throw ValidationError("--nice must be between 0 and 19") }
        guard interval.nanoseconds >= 10_000_000 else {
            throw ValidationError("--interval must be at least 10ms")
        }
    }

    func run() throws {
        log.bootstrap()
        if probe, let statusFile {
            if let failure = StatusFile.probe(path: statusFile, maxAgeNs: probeMaxAge.nanoseconds) {
                AgentLog.error(failure)
                throw ExitCode(1)
            }
            return
        }
        do {
            try Preflight.check()
            if setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, nice) != 0 {
                AgentLog.warning("could not set niceness \(nice): \(String(cString: strerror(errno)))")
            }
            var options = L4Collector.Options(node: node ?? Self.hostName(),
                                              cgroupRoot: cgroupRoot ?? CgroupMount.v2Root(),
                                              udpIdleTimeoutNs: udpIdleTimeout.nanoseconds,
                                              maxTCPFlows: maxTcpFlows, maxUDPFlows: maxUdpFlows)
            options.disabledTracepoints = Set(disabledTracepoints)
            options.hooks = hooks
            var loop = CollectionLoop.Settings(l4: options, l7RecordCap: l7RecordCap, l7MaxURIs: l7MaxUris,
                                               intervalNs: interval.nanoseconds)
            loop.l7Enabled = !noL7
            loop.tlsEnabled = !noTLS
            loop.l4Enabled = !noL4
            loop.statusFile = statusFile
            if features {
                print(JSONLineWriter.line(try FeatureReport.make(loop)))
                return
            }
            if let rules {
                _ = try CollectionRules.load(path: rules) // a bad file stops the agent before it loads anything
                loop.rulesFile = rules
            }
            if let operatorKey, !programBundles.isEmpty {
                loop.programSources = try Self.bundleSources(paths: programBundles, key: VerifyingKey(file: operatorKey))
            }
            var probes: ProbeServer?
            if let healthListen {
                let health = AgentHealth()
                loop.health = health
                probes = try AgentProbeListener.start(healthListen, health: health, maxAgeNs: probeMaxAge.nanoseconds)
            }
            defer { _ = try? probes?.stop().wait() }
            if let controller, let certs, let spool {
                let endpoint = try AgentEndpoint.make(.init(
                    controller: ControllerEndpoint.parse(controller)!, controllerName: controllerName, certs: certs,
                    caFile: caFile, bootstrapTokenFile: bootstrapTokenFile,
                    bootstrapController: bootstrapController.flatMap(ControllerEndpoint.parse), node: options.node))
                try ControllerAgent.run(loop, settings: .init(
                    endpoint: endpoint,
                    spoolDirectory: spool, spoolMaxBytes: spoolMaxMb << 20,
                    operatorKey: try operatorKey.map { try VerifyingKey(file: $0) }))
            } else {
                try StandaloneAgent.run(loop)
            }
        } catch let failure as Preflight.Failure {
            AgentLog.error(failure.description)
            throw ExitCode(2)
        } catch {
            AgentLog.error("\(error)")
            throw ExitCode(1)
        }
    }

    /// The object each bundle file is for (read at start: a file that does not decode, or names
    /// no known object, stops the agent), then read and verified again at each reload: only a
    /// verified object reaches the kernel.
    static func bundleSources(paths: [String], key: VerifyingKey) throws -> [KernelObject: @Sendable () throws -> [UInt8]] {
        var sources: [KernelObject: @Sendable () throws -> [UInt8]] = [:]
        for path in paths {
            let name: String
            do {
                name = try BundleSignature.decode(try BundleSignature.readFile(path, what: "program bundle")).name
            } catch {
                throw BundleRefused(path: path, reason: "\(error)")
            }
            guard let object = KernelObject(rawValue: name) else {
                throw BundleRefused(path: path, reason: "it names object '\(name)'; this agent loads "
                    + KernelObject.allCases.map(\.rawValue).joined(separator: ", "))
            }
            guard sources[object] == nil else {
                throw BundleRefused(path: path, reason: "a second bundle for \(name)")
            }
            AgentLog.info("SIGHUP loads the \(name) programs from bundle \(path), trusting operator key \(key.keyId)")
            sources[object] = { try verifiedObject(path: path, name: name, key: key) }
        }
        return sources
    }

    private static func verifiedObject(path: String, name: String, key: VerifyingKey) throws -> [UInt8] {
        let bytes: [UInt8]
        do {
            bytes = try BundleSignature.readFile(path, what: "program bundle")
        } catch let error as TLSError {
            throw BundleRefused(path: path, reason: error.message)
        }
        do throws(BundleRejection) {
            let bundle = try BundleSignature.verify(bytes, trusting: key, expectedName: name)
            AgentLog.info("program bundle \(path) verified: \(bundle.name) version \(bundle.version), "
                + "sha256 \(Digest.hex(bundle.sha256)), signer \(bundle.signerKeyId)")
            return bundle.object
        } catch {
            throw BundleRefused(path: path, reason: "\(error)")
        }
    }

    struct BundleRefused: Error, CustomStringConvertible {
        let path: String
        let reason: String
        var description: String { "program bundle \(path) refused: \(reason)" }
    }

    static func hostName() -> String {
        var buf = [CChar](repeating: 0, count: 256)
        gethostname(&buf, buf.count)
        return String(decoding: buf.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

extension HookTierRequest: ExpressibleByArgument {}
