#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Foundation

/// Lab resources found on the machine, by kind.
public struct LabResources: Sendable, Equatable, CustomStringConvertible {
    public var netns: [String]
    public var links: [String]
    /// Lab-level cgroup directories (absolute paths).
    public var cgroups: [String]
    /// Subnet numbers whose lease is held.
    public var leases: [Int]

    public init(netns: [String] = [], links: [String] = [], cgroups: [String] = [], leases: [Int] = []) {
        self.netns = netns
        self.links = links
        self.cgroups = cgroups
        self.leases = leases
    }

    public var isEmpty: Bool { netns.isEmpty && links.isEmpty && cgroups.isEmpty && leases.isEmpty }

    public var description: String {
        "netns \(netns), links \(links), cgroups \(cgroups), leases \(leases)"
    }
}

/// Finds lab resources by owner pid and removes them: crashed runs' leftovers on every
/// `NodeLab.init`, and (from tests) a check that a teardown left nothing behind.
public enum LabJanitor {
    /// Every lab resource on the machine whose owner pid satisfies `owner`.
    public static func resources(ownedBy owner: (Int32) -> Bool) -> LabResources {
        func ours(_ name: String) -> Bool { LabNaming.ownerPID(of: name).map(owner) ?? false }
        var found = LabResources()
        found.netns = IPRoute.listNetns().filter(ours).sorted()
        found.links = IPRoute.listLinks().filter(ours).sorted()
        if let root = try? cgroupRoot() {
            let dirs = (try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []
            found.cgroups = dirs.filter { ours($0) && CgroupV2.isDirectory(root + "/" + $0) }.sorted().map { root + "/" + $0 }
        }
        found.leases = SubnetLeases.all().filter { ours($0.value) }.map(\.key).sorted()
        return found
    }

    /// Resources left by processes that no longer exist.
    public static func staleResources() -> LabResources {
        resources { !isAlive($0) }
    }

    /// Removes what crashed runs left behind (owner pid dead). Best effort: a concurrent
    /// cleaner in another process may win some races, which is fine.
    @discardableResult
    public static func removeStale() -> LabResources {
        let stale = staleResources()
        if !stale.isEmpty {
            Log.info("removing leftovers of dead labs: \(stale)")
            remove(stale)
        }
        return stale
    }

    /// Kills, then deletes in dependency order: processes (so namespaces can really go),
    /// namespaces (taking their veths), remaining links, cgroups, leases.
    static func remove(_ resources: LabResources) {
        resources.cgroups.forEach(CgroupV2.killAll(in:))
        for ns in resources.netns {
            for pid in IPRoute.netnsPids(ns) { kill(pid, SIGKILL) }
            IPRoute.deleteNetns(ns)
        }
        // Host veth ends first, bridges last (deleting a bridge releases ports but not veths).
        for link in resources.links.sorted(by: { !$0.hasSuffix("br") && $1.hasSuffix("br") }) {
            IPRoute.deleteLink(link)
        }
        for cgroup in resources.cgroups where !CgroupV2.removeTree(cgroup) {
            Log.warning("could not remove cgroup \(cgroup): still populated")
        }
        resources.leases.forEach(SubnetLeases.remove)
    }

    /// kill(pid, 0): ESRCH means gone; EPERM still means alive.
    public static func isAlive(_ pid: Int32) -> Bool {
        pid > 0 && (kill(pid, 0) == 0 || errno == EPERM)
    }

    static func cgroupRoot() throws -> String {
        try CgroupV2.mountPoint() + "/" + LabNaming.cgroupDirectory
    }
}
