#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Foundation

/// A Kubernetes-like node on this machine: a Linux bridge in the root namespace (no address,
/// so pods talk only among themselves on one L2 segment) and pods hanging off it, each with its
/// own netns, veth and kubelet-style cgroup v2 directory.
///
///     let lab = try NodeLab()
///     defer { lab.teardown() }
///     let server = try lab.addPod(name: "server")
///
/// Every lab is registered for teardown at exit and on SIGINT/SIGTERM/SIGHUP; leftovers of
/// killed runs are removed by the next `NodeLab.init` (see `LabJanitor`, scripts/lab-clean.sh).
public final class NodeLab: Sendable, CustomStringConvertible {
    /// Human label (defaults to `id`), also in the bridge's alias.
    public let name: String
    /// `nlab<pid base36>-<index>`: prefix of every resource of this lab.
    public let id: String
    public let bridgeName: String
    /// N in 10.244.N.0/24 and fd00:10:244:N::/64, unique among live labs on the machine.
    public let subnetIndex: Int
    public let ipv4Subnet: String
    public let ipv6Subnet: String
    /// Where the cgroup2 hierarchy is mounted (/sys/fs/cgroup/unified on hybrid hosts).
    public let cgroup2Mount: String
    /// This lab's cgroup (`<mount>/netobs-nodelab/<id>`); pods live below `kubepods/`.
    public let cgroupRoot: String

    private struct State {
        var pods: [Pod] = []
        var nextPodIndex = 0
        var tornDown = false
    }
    private let state = Locked(State())
    private static let labCounter = Locked(0)
    /// Host numbers .2 ... .254 (.1 is left for a gateway, should one be added).
    private static let maxPods = 253

    public init(name: String? = nil) throws {
        try Self.preflight()
        cgroup2Mount = try CgroupV2.mountPoint()
        LabJanitor.removeStale()

        let index = Self.labCounter.withLock { counter in defer { counter += 1 }; return counter }
        id = LabNaming.labID(ownerPID: getpid(), index: index)
        self.name = name ?? id
        bridgeName = LabNaming.bridgeName(labID: id)
        cgroupRoot = cgroup2Mount + "/" + LabNaming.cgroupDirectory + "/" + id
        subnetIndex = try SubnetLeases.acquire(for: id)
        ipv4Subnet = "10.244.\(subnetIndex).0/24"
        ipv6Subnet = "fd00:10:244:\(subnetIndex)::/64"

        // Registered before anything exists so an interrupt mid-creation still cleans up.
        CleanupRegistry.register(self)
        do {
            try IPRoute.addBridge(bridgeName, alias: "netobs-nodelab \(self.name) \(ipv4Subnet) \(ipv6Subnet)")
            try CgroupV2.create(cgroupRoot + "/kubepods")
        } catch {
            teardown()
            throw error
        }
        Log.info("lab \(self.name) up: bridge \(bridgeName), \(ipv4Subnet), \(ipv6Subnet), cgroup \(cgroupRoot)")
    }

    /// Fails clearly unless we are root and iproute2 is installed.
    public static func preflight() throws {
        guard geteuid() == 0 else { throw NodeLabError.notRoot }
        guard Shell.which("ip") != nil else {
            throw NodeLabError.missingTool("ip", hint: "apt-get install iproute2")
        }
    }

    public var description: String { "NodeLab \(name) (\(id), \(ipv4Subnet), \(ipv6Subnet))" }

    public var pods: [Pod] { state.withLock { $0.pods } }
    public var isTornDown: Bool { state.withLock { $0.tornDown } }

    /// True once a signal started the teardown of every lab of this process (it then exits):
    /// failures seen by other threads from then on are the teardown's doing.
    public static var isInterruptedBySignal: Bool { CleanupRegistry.isExiting }

    public func pod(named name: String, namespace: String = "default") -> Pod? {
        pods.first { $0.name == name && $0.namespace == namespace }
    }

    // MARK: Pods

    /// Creates a pod: netns, veth (host end on the bridge, eth0 inside), lo up, IPv4 and IPv6
    /// (nodad) addresses, and `<cgroupRoot>/kubepods/pod<uid>/<containerID>`.
    /// Names follow Kubernetes rules (DNS-1123 labels).
    public func addPod(name: String, namespace: String = "default") throws -> Pod {
        try Self.validate(name)
        try Self.validate(namespace)
        // Held throughout so a concurrent teardown never misses a half-built pod.
        return try state.withLock { state in
            guard !state.tornDown else { throw NodeLabError.tornDown(self.name) }
            guard !state.pods.contains(where: { $0.name == name && $0.namespace == namespace }) else {
                throw NodeLabError.invalidName(name, reason: "pod \(namespace)/\(name) already exists in lab \(self.name)")
            }
            guard state.nextPodIndex < Self.maxPods else {
                throw NodeLabError.exhausted("pod addresses in lab \(self.name) (\(Self.maxPods) pods)")
            }
            let index = state.nextPodIndex
            state.nextPodIndex += 1

            let host = index + 2
            let uid = UUID().uuidString.lowercased()
            let containerID = Self.randomHex(bytes: 32)
            let netns = LabNaming.netnsName(labID: id, podIndex: index, podName: name)
            let veth = LabNaming.hostVethName(labID: id, podIndex: index)
            let podCgroup = cgroupRoot + "/kubepods/pod" + uid
            let cgroup = podCgroup + "/" + containerID
            // fd00:10:244:N::H mirrors 10.244.N.H digit for digit (both read as hex groups).
            let ipv4 = "10.244.\(subnetIndex).\(host)"
            let ipv6 = "fd00:10:244:\(subnetIndex)::\(host)"
            do {
                try IPRoute.addNetns(netns)
                try IPRoute.addVeth(host: veth, bridge: bridgeName, netns: netns)
                try IPRoute.configurePodInterface(netns: netns, ipv4CIDR: ipv4 + "/24", ipv6CIDR: ipv6 + "/64")
                try CgroupV2.create(cgroup)
                let pod = Pod(name: name, namespace: namespace, uid: uid, containerID: containerID,
                              netnsName: netns, ipv4: ipv4, ipv6: ipv6, cgroupPath: cgroup,
                              podCgroupPath: podCgroup, cgroupID: try CgroupV2.id(of: cgroup),
                              netnsInode: try IPRoute.inode(ofNetns: netns), hostVethName: veth, labID: id)
                state.pods.append(pod)
                Log.info("pod \(pod)")
                return pod
            } catch {
                Self.destroy(netns: netns, hostVeth: veth, cgroup: podCgroup)
                throw error
            }
        }
    }

    /// Kills the pod's processes and deletes its netns, veth and cgroups (pod churn).
    public func removePod(_ pod: Pod) {
        state.withLock { state in
            guard let i = state.pods.firstIndex(of: pod) else { return }
            state.pods.remove(at: i)
            Self.destroy(netns: pod.netnsName, hostVeth: pod.hostVethName, cgroup: pod.podCgroupPath)
        }
    }

    // MARK: Teardown

    /// Kills every process in the lab, removes pods, cgroups, bridge and subnet lease.
    /// Idempotent and safe from any thread (tests, signal handler, atexit); never throws,
    /// but warns on stderr about anything it could not remove.
    public func teardown() {
        state.withLock { state in
            guard !state.tornDown else { return }
            state.tornDown = true
            // One cgroup.kill for the whole lab before touching namespaces.
            CgroupV2.killAll(in: cgroupRoot)
            for pod in state.pods {
                Self.destroy(netns: pod.netnsName, hostVeth: pod.hostVethName, cgroup: nil)
            }
            // Anything named after this lab that a failed step left unrecorded.
            let strays = LabJanitor.resources { $0 == getpid() }
            for ns in strays.netns where ns.hasPrefix(id + "-") { Self.destroy(netns: ns, hostVeth: nil, cgroup: nil) }
            for link in strays.links where link.hasPrefix(id) && link != bridgeName { IPRoute.deleteLink(link) }
            IPRoute.deleteLink(bridgeName)
            if !CgroupV2.removeTree(cgroupRoot) {
                Log.warning("lab \(name): cgroup \(cgroupRoot) still populated after teardown")
            }
            SubnetLeases.release(subnetIndex, labID: id)
            if IPRoute.linkExists(bridgeName) { Log.warning("lab \(name): bridge \(bridgeName) still exists") }
            Log.info("lab \(name) torn down")
        }
        CleanupRegistry.unregister(self)
    }

    /// Processes first (so the namespace really goes away), then the veth pair (synchronously:
    /// a deleted netns frees its veth only later, from a kernel work queue), then the netns,
    /// then the cgroup subtree.
    private static func destroy(netns: String, hostVeth: String?, cgroup: String?) {
        if let cgroup { CgroupV2.killAll(in: cgroup) }
        for pid in IPRoute.netnsPids(netns) { kill(pid, SIGKILL) }
        if let hostVeth { IPRoute.deleteLink(hostVeth) }
        IPRoute.deleteNetns(netns)
        if let cgroup, !CgroupV2.removeTree(cgroup) {
            Log.warning("cgroup \(cgroup) still populated")
        }
    }

    // MARK: Helpers

    private static func validate(_ name: String) throws {
        let allowed = name.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "-" }
        guard !name.isEmpty, name.count <= 63, allowed, name.first != "-", name.last != "-" else {
            throw NodeLabError.invalidName(name, reason: "must be a DNS-1123 label: [a-z0-9-], at most 63, no leading/trailing '-'")
        }
    }

    private static func randomHex(bytes: Int) -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<bytes).map { _ in
            let byte = UInt8.random(in: .min ... .max, using: &generator)
            return (byte < 16 ? "0" : "") + String(byte, radix: 16)
        }.joined()
    }
}
