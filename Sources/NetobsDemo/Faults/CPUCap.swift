import Foundation
import NodeLab
#if canImport(Glibc)
import Glibc
#endif

/// The cpu fault's lever: a CFS bandwidth quota on a pod's processes (`percent`% of one CPU per
/// 100 ms period). Where the cgroup v2 hierarchy has the cpu controller, the pod's own cgroup
/// gets `cpu.max`; on hybrid hosts, where cpu is bound to a v1 hierarchy (this machine: cgroup2
/// at /sys/fs/cgroup/unified with no controllers), the pod's processes move into a v1 cpu cgroup
/// of the lab, `<cpu mount>/netobs-nodelab-demo/<lab>/<pod>`, with `cpu.cfs_quota_us`, and back
/// to the v1 root when the fault ends. `stats` reads the throttling the kernel counted.
struct CPUCap {
    enum Location: Equatable {
        case v2(cgroup: String)
        case v1(cgroup: String, root: String)
    }

    let location: Location
    let pids: [Int32]

    static let periodUs = 100_000
    static let v1Directory = "netobs-nodelab-demo"

    /// What the kernel counted: periods, throttled periods, time throttled (ms).
    struct Stats: Equatable {
        var periods = 0.0
        var throttled = 0.0
        var throttledMs = 0.0
    }

    static func quotaUs(percent: Double) -> Int { max(1000, Int((percent / 100 * Double(periodUs)).rounded())) }

    static func apply(percent: Double, to pod: Pod) throws -> CPUCap {
        let quota = quotaUs(percent: percent)
        let mount = try CgroupV2.mountPoint()
        if v2HasCPU(mount: mount), enableCPU(from: mount, to: URL(fileURLWithPath: pod.cgroupPath).deletingLastPathComponent().path) {
            try write("\(quota) \(periodUs)", to: pod.cgroupPath + "/cpu.max")
            return CPUCap(location: .v2(cgroup: pod.cgroupPath), pids: [])
        }
        guard let root = v1Mount() else {
            throw DemoError("no cpu controller on this host (neither cgroup v2's cpu.max nor a v1 cpu hierarchy): cannot cap \(pod.name)'s CPU")
        }
        let dir = root + "/" + v1Directory + "/" + pod.labID + "/" + pod.name
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try write(String(periodUs), to: dir + "/cpu.cfs_period_us")
        try write(String(quota), to: dir + "/cpu.cfs_quota_us")
        let pids = procs(pod.cgroupPath + "/cgroup.procs")
        guard !pids.isEmpty else { throw DemoError("\(pod.name) has no process to cap") }
        for pid in pids { try write(String(pid), to: dir + "/cgroup.procs") }
        return CPUCap(location: .v1(cgroup: dir, root: root), pids: pids)
    }

    func stats() -> Stats {
        switch location {
        case .v2(let cgroup):
            let s = Self.parseStat((try? String(contentsOfFile: cgroup + "/cpu.stat", encoding: .utf8)) ?? "")
            return Stats(periods: s["nr_periods"] ?? 0, throttled: s["nr_throttled"] ?? 0, throttledMs: (s["throttled_usec"] ?? 0) / 1000)
        case .v1(let cgroup, _):
            let s = Self.parseStat((try? String(contentsOfFile: cgroup + "/cpu.stat", encoding: .utf8)) ?? "")
            return Stats(periods: s["nr_periods"] ?? 0, throttled: s["nr_throttled"] ?? 0, throttledMs: (s["throttled_time"] ?? 0) / 1e6)
        }
    }

    /// Lifts the cap (v2: `max`; v1: the processes back to the root, the cgroup removed).
    func remove() throws {
        switch location {
        case .v2(let cgroup):
            try Self.write("max \(Self.periodUs)", to: cgroup + "/cpu.max")
        case .v1(let cgroup, let root):
            Self.empty(cgroup, into: root)
            rmdir(cgroup)
        }
    }

    /// "nr_periods 12\nnr_throttled 3\n..." as numbers by name.
    static func parseStat(_ text: String) -> [String: Double] {
        var out: [String: Double] = [:]
        for line in text.split(separator: "\n") {
            let f = line.split(separator: " ")
            if f.count == 2, let v = Double(f[1]) { out[String(f[0])] = v }
        }
        return out
    }

    /// The mount point of a cgroup v1 hierarchy with the cpu controller, from /proc/mounts.
    static func v1Mount(mounts: String? = nil) -> String? {
        let text = mounts ?? (try? String(contentsOfFile: "/proc/mounts", encoding: .utf8)) ?? ""
        for line in text.split(separator: "\n") {
            let f = line.split(separator: " ")
            guard f.count >= 4, f[2] == "cgroup", f[3].split(separator: ",").contains("cpu") else { continue }
            return String(f[1])
        }
        return nil
    }

    static func v2HasCPU(mount: String) -> Bool {
        ((try? String(contentsOfFile: mount + "/cgroup.controllers", encoding: .utf8)) ?? "")
            .split(whereSeparator: { $0 == " " || $0 == "\n" }).contains("cpu")
    }

    /// `+cpu` in the subtree_control of every cgroup from the mount down to `last` (inclusive).
    private static func enableCPU(from mount: String, to last: String) -> Bool {
        guard last.hasPrefix(mount) else { return false }
        var path = mount
        let parts = last.dropFirst(mount.count).split(separator: "/")
        for part in [Substring("")] + parts {
            if !part.isEmpty { path += "/" + part }
            let control = path + "/cgroup.subtree_control"
            let enabled = ((try? String(contentsOfFile: control, encoding: .utf8)) ?? "").split(whereSeparator: { $0 == " " || $0 == "\n" })
            if enabled.contains("cpu") { continue }
            if (try? write("+cpu", to: control)) == nil { return false }
        }
        return true
    }

    // MARK: Leftovers

    /// This lab's v1 cgroups (the fault's end normally removed them; a failed run may not have).
    static func remove(labID: String) {
        guard let root = v1Mount() else { return }
        removeTree(root + "/" + v1Directory + "/" + labID, root: root)
    }

    /// v1 cgroups of labs whose process is gone (a run killed with SIGKILL).
    static func removeStale() {
        guard let root = v1Mount() else { return }
        let base = root + "/" + v1Directory
        for lab in (try? FileManager.default.contentsOfDirectory(atPath: base)) ?? [] {
            if let owner = LabNaming.ownerPID(of: lab), !LabJanitor.isAlive(owner) { removeTree(base + "/" + lab, root: root) }
        }
    }

    private static func removeTree(_ dir: String, root: String) {
        for pod in (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? [] {
            var isDir: ObjCBool = false
            guard FileManager.default.fileExists(atPath: dir + "/" + pod, isDirectory: &isDir), isDir.boolValue else { continue }
            empty(dir + "/" + pod, into: root)
            rmdir(dir + "/" + pod)
        }
        rmdir(dir)
    }

    private static func empty(_ cgroup: String, into root: String) {
        for pid in procs(cgroup + "/cgroup.procs") { try? write(String(pid), to: root + "/cgroup.procs") }
    }

    private static func procs(_ path: String) -> [Int32] {
        ((try? String(contentsOfFile: path, encoding: .utf8)) ?? "").split(separator: "\n").compactMap { Int32($0) }
    }

    private static func write(_ text: String, to path: String) throws {
        guard let handle = FileHandle(forWritingAtPath: path) else { throw DemoError("cannot open \(path)") }
        defer { try? handle.close() }
        do {
            try handle.write(contentsOf: Data(text.utf8))
        } catch {
            throw DemoError("writing '\(text)' to \(path): \(error.localizedDescription)")
        }
    }
}
