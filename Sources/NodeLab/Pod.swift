import Foundation

/// One "pod": a network namespace with eth0 on the lab bridge, and a kubelet-style cgroup
/// (`.../kubepods/pod<uid>/<containerID>`) that every process started through it joins.
public struct Pod: Sendable, Hashable, CustomStringConvertible {
    public let name: String
    public let namespace: String
    /// Kubernetes-style pod UID (lowercase UUID).
    public let uid: String
    /// 64 hex digits, like a containerd/docker container id.
    public let containerID: String
    /// Name under /run/netns (use with `ip netns exec` / `ip -n`).
    public let netnsName: String
    public let ipv4: String
    public let ipv6: String
    /// The container cgroup processes run in (absolute path under the cgroup2 mount).
    public let cgroupPath: String
    /// The pod-level cgroup (parent of `cgroupPath`).
    public let podCgroupPath: String
    /// Inode of `cgroupPath` = kernfs id = what bpf_get_current_cgroup_id() returns.
    public let cgroupID: UInt64
    /// Inode of /run/netns/<netnsName> = the number in `readlink /proc/<pid>/ns/net`.
    public let netnsInode: UInt64
    /// The veth end on the bridge in the root namespace (the pod side is eth0).
    public let hostVethName: String
    /// Owning lab's id.
    public let labID: String

    public var netnsPath: String { IPRoute.netnsDirectory + "/" + netnsName }
    public var description: String { "\(namespace)/\(name) (\(ipv4), \(ipv6), netns \(netnsName))" }

    // MARK: Processes

    /// Starts `argv` inside the pod's netns and cgroup. The returned pid IS the workload's pid:
    /// a shell writes its own pid to cgroup.procs and execs `ip netns exec`, which setns()es
    /// and execs the program in place without forking.
    /// Note: `ip netns exec` also gives the program a private mount namespace with a fresh /sys
    /// (so the cgroup filesystem is not visible inside, like in a real container).
    /// `cgroup` (a cgroup v2 directory) puts the program there instead of the pod's container
    /// cgroup: another container, or a host-network pod sharing this network namespace.
    public func spawn(_ argv: [String], stdout: OutputMode = .capture, stderr: OutputMode = .capture,
                      environment: [String: String] = [:], cgroup: String? = nil) throws -> LabProcess {
        precondition(!argv.isEmpty, "empty command")
        guard IPRoute.netnsExists(netnsName) else { throw NodeLabError.tornDown("pod \(namespace)/\(name)") }
        let program = try Shell.resolve(argv[0])
        let wrapper = ["/bin/sh", "-c", #"echo $$ > "$0" && exec "$@""#, (cgroup ?? cgroupPath) + "/cgroup.procs",
                       try Shell.resolve("ip"), "netns", "exec", netnsName, program] + argv.dropFirst()
        Log.command(argv, pod: "\(namespace)/\(name)")
        let child = try Spawner.spawn(executable: "/bin/sh", argv: wrapper,
                                      environment: Shell.environment(environment),
                                      stdout: stdout, stderr: stderr)
        return LabProcess(child: child, argv: argv)
    }

    /// Runs `argv` in the pod to completion; kills it and throws `timedOut` after `timeout`.
    /// A non-zero exit is returned, not thrown (see `check`).
    public func run(_ argv: [String], timeout: Duration = .seconds(60), cgroup: String? = nil) throws -> CommandResult {
        try Shell.finish(spawn(argv, cgroup: cgroup), timeout: timeout)
    }

    /// Like `run`, but a non-zero exit throws `NodeLabError.commandFailed`.
    @discardableResult
    public func check(_ argv: [String], timeout: Duration = .seconds(60), cgroup: String? = nil) throws -> CommandResult {
        try Shell.requireSuccess(run(argv, timeout: timeout, cgroup: cgroup))
    }

    // MARK: Traffic shaping and inspection

    /// `iptables -w <args>` in the pod's netns (iptables-nft works per netns); returns stdout.
    @discardableResult
    public func iptables(_ args: [String]) throws -> String {
        try check(["iptables", "-w"] + args).stdout
    }

    /// `ip6tables -w <args>` in the pod's netns; returns stdout.
    @discardableResult
    public func ip6tables(_ args: [String]) throws -> String {
        try check(["ip6tables", "-w"] + args).stdout
    }

    /// `tc <args>` in the pod's netns, e.g. `["qdisc", "add", "dev", "eth0", "root", "tbf", ...]`.
    /// Returns stdout.
    @discardableResult
    public func tc(_ args: [String]) throws -> String {
        try Shell.check(["tc", "-n", netnsName] + args).stdout
    }

    /// `ip <args>` in the pod's netns; returns stdout.
    @discardableResult
    public func ip(_ args: [String]) throws -> String {
        try Shell.check(["ip", "-n", netnsName] + args).stdout
    }
}
