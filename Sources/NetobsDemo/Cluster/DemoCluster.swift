import Foundation
import NodeLab
#if canImport(Glibc)
import Glibc
#endif

/// The demo application running on a NodeLab: one pod per component, kube-dns (dnsmasq)
/// resolving the service names, Redis for carts-db, scripts/demo-app/service.py for the
/// services. `stop()` (or the lab's own signal/exit teardown) leaves nothing behind.
public final class DemoCluster: @unchecked Sendable {
    public let lab: NodeLab
    public let pods: [DemoPod]
    let labPods: [String: Pod]          // by "namespace/name"
    let layout: DemoLayout
    let appDirectory: String
    private let processes = Locked([String: LabProcess]())
    private let hidden = Locked(Set<String>())
    private let stopping = Locked(false)
    /// Components whose process a kill fault ended (not a failure while they are down).
    private let down = Locked(Set<String>())
    private let restarts = Locked(0)

    public static let python = "/usr/bin/python3"

    /// Builds the pods and starts everything; on failure tears down what it made.
    public static func start(layout: DemoLayout, appDirectory: String, say: (String) -> Void) throws -> DemoCluster {
        NetnsEtc.removeStale()
        CPUCap.removeStale()
        let lab = try NodeLab(name: "netobs-demo")
        do {
            var labPods: [String: Pod] = [:]
            var demoPods: [DemoPod] = []
            for component in SockShop.components {
                let pod = try lab.addPod(name: component.name, namespace: component.namespace)
                labPods[key(component.name, component.namespace)] = pod
                demoPods.append(DemoPod(component: component, uid: pod.uid, ipv4: pod.ipv4, ipv6: pod.ipv6))
            }
            let cluster = DemoCluster(lab: lab, pods: demoPods, labPods: labPods, layout: layout, appDirectory: appDirectory)
            say("lab \(lab.id): \(demoPods.count) pods on bridge \(lab.bridgeName), \(lab.ipv4Subnet)")
            try cluster.startAll(say: say)
            return cluster
        } catch {
            if lab.isTornDown || NodeLab.isInterruptedBySignal { Interruption.awaitExit(say: say) }
            lab.teardown()
            for pod in lab.pods { NetnsEtc.remove(for: pod) }
            throw error
        }
    }

    private init(lab: NodeLab, pods: [DemoPod], labPods: [String: Pod], layout: DemoLayout, appDirectory: String) {
        self.lab = lab
        self.pods = pods
        self.labPods = labPods
        self.layout = layout
        self.appDirectory = appDirectory
    }

    static func key(_ name: String, _ namespace: String) -> String { namespace + "/" + name }

    /// The lab pod of a component (every component has one).
    public func pod(_ name: String, namespace: String = SockShop.appNamespace) -> Pod {
        labPods[Self.key(name, namespace)]!
    }

    public var dnsPod: Pod { pod("kube-dns", namespace: SockShop.dnsNamespace) }
    public var loadPod: Pod { pod("load-generator", namespace: SockShop.loadNamespace) }

    // MARK: Starting

    private func startAll(say: (String) -> Void) throws {
        for demoPod in pods {
            try NetnsEtc.write("resolv.conf", contents: ClusterDNS.resolvConf(namespace: demoPod.namespace, nameserver: dnsPod.ipv4),
                               for: pod(demoPod.name, namespace: demoPod.namespace))
        }
        try startDNS()
        try startRedis(log: "carts-db")
        for component in SockShop.components where component.role == .service {
            try startService(component, log: component.name)
        }
        for component in SockShop.components where component.role == .service {
            try LogFiles.wait(for: "listening on port", in: layout.log(component.name), from: process(component.name)!,
                              what: "service \(component.name)")
        }
        let checks = try probe(Self.readinessChecks, deadline: 20)
        say("application serving: \(checks.count) checks answered 2xx through DNS names from the load generator's pod")
    }

    private func startDNS() throws {
        try ClusterDNS.hostsFile(pods).write(toFile: layout.hostsFile, atomically: true, encoding: .utf8)
        let dnsmasq = try dnsPod.spawn(ClusterDNS.dnsmasqArguments(listen: dnsPod.ipv4, hostsFile: layout.hostsFile),
                                       stdout: .discard, stderr: .file(layout.log("kube-dns")))
        remember("kube-dns", dnsmasq)
        try LogFiles.wait(for: "read \(layout.hostsFile)", in: layout.log("kube-dns"), from: dnsmasq, what: "dnsmasq in kube-dns")
    }

    private func startRedis(log: String) throws {
        let redis = try pod("carts-db").spawn(["redis-server", "--bind", "0.0.0.0", "--port", "6379", "--save", "",
                                               "--appendonly", "no", "--protected-mode", "no", "--daemonize", "no"],
                                              stdout: .file(layout.log(log)), stderr: .file(layout.log(log + ".stderr")))
        remember("carts-db", redis)
        try LogFiles.wait(for: "Ready to accept connections", in: layout.log(log), from: redis, what: "redis-server in carts-db")
    }

    private func startService(_ component: SockShop.Component, log: String) throws {
        if !FileManager.default.fileExists(atPath: layout.delayControl(component.name)) {
            try "0\n".write(toFile: layout.delayControl(component.name), atomically: true, encoding: .utf8)
        }
        let process = try pod(component.name).spawn(
            [Self.python, "-u", appDirectory + "/service.py", "--service", component.name, "--port", String(component.port),
             "--control", layout.delayControl(component.name), "--redis", "carts-db:6379"],
            stdout: .discard, stderr: .file(layout.log(log)))
        remember(component.name, process)
    }

    private func remember(_ name: String, _ process: LabProcess) {
        processes.withLock { $0[name] = process }
    }

    func process(_ name: String) -> LabProcess? { processes.withLock { $0[name] } }

    /// Every service's health URI and the front-end pages that reach every service and Redis.
    public static var readinessChecks: [(method: String, url: String)] {
        let health = SockShop.components.filter { $0.role == .service }.map { ("GET", "http://\($0.name).\($0.namespace)/health") }
        let pages = [("GET", "/"), ("GET", "/catalogue"), ("GET", "/detail/808a2de1"), ("POST", "/cart"), ("GET", "/cart"),
                     ("POST", "/orders"), ("GET", "/orders"), ("GET", "/customers/c1")]
        return health + pages.map { ($0.0, "http://front-end.\(SockShop.appNamespace)\($0.1)") }
    }

    /// A probe result: one request as the client saw it.
    public struct ProbeResult: Sendable {
        public let method: String
        public let url: String
        public let status: Int
        public let milliseconds: Double
    }

    /// Runs scripts/demo-app/probe.py in the load generator's pod, retrying each request until
    /// 2xx or `deadline` seconds; throws listing what did not answer.
    @discardableResult
    public func probe(_ requests: [(method: String, url: String)], deadline: Double = 20) throws -> [ProbeResult] {
        let argv = [Self.python, appDirectory + "/probe.py", "--deadline", String(deadline)]
            + requests.flatMap { [$0.method, $0.url] }
        let result = try loadPod.run(argv, timeout: .seconds(Int64(deadline) + 10 * Int64(requests.count)))
        let parsed = result.stdout.split(separator: "\n").compactMap { line -> ProbeResult? in
            let f = line.split(separator: " ")
            guard f.count == 4, let status = Int(f[2]), let ms = Double(f[3]) else { return nil }
            return ProbeResult(method: String(f[0]), url: String(f[1]), status: status, milliseconds: ms)
        }
        if result.status != 0 || parsed.count != requests.count {
            let failed = parsed.filter { !(200..<300).contains($0.status) }.map { "\($0.method) \($0.url) -> \($0.status)" }
            let logs = pods.filter { $0.component.role == .service }.map { LogFiles.tail(layout.log($0.name), lines: 3) }
            throw DemoError("the application did not answer: \(failed.joined(separator: ", "))\(result.stderr)\n"
                + logs.joined(separator: "\n"))
        }
        return parsed
    }

    // MARK: Faults' levers

    /// Makes dnsmasq answer NXDOMAIN for the names in `names` (and only those) from now on:
    /// rewrites its hosts file, sends SIGHUP, and waits until it logged the re-read.
    func hideNames(_ names: Set<String>) throws {
        let reads = LogFiles.text(layout.log("kube-dns")).components(separatedBy: "read \(layout.hostsFile)").count - 1
        try ClusterDNS.hostsFile(pods, hiding: names).write(toFile: layout.hostsFile, atomically: true, encoding: .utf8)
        guard let dnsmasq = process("kube-dns"), dnsmasq.signal(SIGHUP) else {
            throw DemoError("dnsmasq in kube-dns is not running")
        }
        try LogFiles.wait(for: "read \(layout.hostsFile)", count: reads + 1, in: layout.log("kube-dns"), from: dnsmasq,
                          what: "dnsmasq in kube-dns", timeout: 5)
        hidden.withLock { $0 = names }
    }

    var hiddenNames: Set<String> { hidden.withLock { $0 } }

    /// Sets a service's answer delay (0 = none): takes effect from its next request on.
    func setDelay(_ ms: Int, service: String) throws {
        try "\(ms)\n".write(toFile: layout.delayControl(service), atomically: true, encoding: .utf8)
    }

    /// Kills a component's process (SIGKILL, as the OOM killer or a crash would) and waits for
    /// it to end; it stays down, and `checkAlive` quiet about it, until `restart`.
    func kill(_ name: String) throws {
        guard let process = process(name) else { throw DemoError("\(name) has no process to kill") }
        down.withLock { _ = $0.insert(name) }
        _ = process.signal(SIGKILL)
        _ = try process.waitUntilExit(timeout: .seconds(10))
    }

    /// Starts a killed component again (as the kubelet restarts a container) and waits until it
    /// serves; returns how long that took, in milliseconds.
    func restart(_ name: String) throws -> Double {
        guard let component = SockShop.components.first(where: { $0.name == name }) else { throw DemoError("no component \(name)") }
        let began = Date()
        let n = restarts.withLock { n in n += 1; return n }
        let log = "\(name).restart-\(n)"
        switch component.role {
        case .service:
            try startService(component, log: log)
            try LogFiles.wait(for: "listening on port", in: layout.log(log), from: process(name)!, what: "service \(name) (restarted)")
        case .redis:
            try startRedis(log: log)
        case .dns, .loadGenerator:
            throw DemoError("\(name) cannot be restarted by the demo")
        }
        down.withLock { _ = $0.remove(name) }
        return Date().timeIntervalSince(began) * 1000
    }

    // MARK: Health and teardown

    /// The lab went away without `stop()`: NodeLab's signal handler tore it down.
    // A signal wins over `stopping`: its exit path (atexit) also stops the cluster.
    var wasInterrupted: Bool { NodeLab.isInterruptedBySignal || (lab.isTornDown && !stopping.withLock { $0 }) }

    /// Throws if a component's process ended (the application cannot have a pod die quietly).
    func checkAlive() throws {
        let killed = down.withLock { $0 }
        for (name, process) in processes.withLock({ $0 }) where !killed.contains(name) {
            if let ended = process.termination {
                throw DemoError("\(name) ended unexpectedly (\(ended))\n" + LogFiles.tail(layout.log(name)))
            }
        }
    }

    /// Stops every process, removes the pods (netns, veth, cgroups, their iptables rules with
    /// them) and the per-pod /etc/netns files. Idempotent.
    public func stop() {
        stopping.withLock { $0 = true }
        for process in processes.withLock({ Array($0.values) }) { process.terminate(grace: .seconds(2)) }
        CPUCap.remove(labID: lab.id)
        lab.teardown()
        for pod in labPods.values { NetnsEtc.remove(for: pod) }
    }
}
