#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Foundation

/// Network namespaces, bridges and veth pairs through iproute2's `ip`, so every step shows up
/// as a command a human can replay (NODELAB_VERBOSE=1).
enum IPRoute {
    static let netnsDirectory = "/run/netns"

    // MARK: Namespaces

    static func addNetns(_ name: String) throws {
        try Shell.check(["ip", "netns", "add", name])
    }

    /// Deletes the netns (and with it the pod end of its veth, which takes the host end along).
    static func deleteNetns(_ name: String) {
        guard netnsExists(name) else { return }
        _ = try? Shell.run(["ip", "netns", "delete", name])
    }

    static func netnsExists(_ name: String) -> Bool {
        access(netnsDirectory + "/" + name, F_OK) == 0
    }

    static func listNetns() -> [String] {
        (try? FileManager.default.contentsOfDirectory(atPath: netnsDirectory)) ?? []
    }

    /// Pids with the namespace as their network namespace (`ip netns pids`): a workload that
    /// escaped the lab's cgroups would otherwise keep the namespace (and veth) alive.
    static func netnsPids(_ name: String) -> [pid_t] {
        guard netnsExists(name), let result = try? Shell.run(["ip", "netns", "pids", name]) else { return [] }
        return result.stdout.split(separator: "\n").compactMap { pid_t($0.trimmingCharacters(in: .whitespaces)) }
    }

    static func inode(ofNetns name: String) throws -> UInt64 {
        try CgroupV2.inode(of: netnsDirectory + "/" + name)
    }

    // MARK: Links

    /// A bridge with no address and STP off, so ports forward as soon as they are up.
    static func addBridge(_ name: String, alias: String) throws {
        try Shell.check(["ip", "link", "add", name, "type", "bridge", "stp_state", "0"])
        try Shell.check(["ip", "link", "set", name, "alias", alias])
        try Shell.check(["ip", "link", "set", name, "up"])
    }

    /// Creates the pair with the peer born inside `netns` as eth0 (no rename dance), enslaves
    /// the host end to `bridge` and brings it up.
    static func addVeth(host: String, bridge: String, netns: String) throws {
        try Shell.check(["ip", "link", "add", host, "type", "veth", "peer", "name", "eth0", "netns", netns])
        try Shell.check(["ip", "link", "set", host, "master", bridge, "up"])
    }

    static func deleteLink(_ name: String) {
        guard linkExists(name) else { return }
        _ = try? Shell.run(["ip", "link", "delete", name])
    }

    static func linkExists(_ name: String) -> Bool {
        access("/sys/class/net/" + name, F_OK) == 0
    }

    /// Interface names in the root namespace.
    static func listLinks() -> [String] {
        (try? FileManager.default.contentsOfDirectory(atPath: "/sys/class/net")) ?? []
    }

    // MARK: Inside a pod

    /// Loopback up, eth0 up with both addresses; IPv6 `nodad` so it is usable at once.
    static func configurePodInterface(netns: String, ipv4CIDR: String, ipv6CIDR: String) throws {
        try Shell.check(["ip", "-n", netns, "link", "set", "lo", "up"])
        try Shell.check(["ip", "-n", netns, "link", "set", "eth0", "up"])
        try Shell.check(["ip", "-n", netns, "addr", "add", ipv4CIDR, "dev", "eth0"])
        try Shell.check(["ip", "-n", netns, "-6", "addr", "add", ipv6CIDR, "dev", "eth0", "nodad"])
    }
}
