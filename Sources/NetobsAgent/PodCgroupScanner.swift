#if canImport(Glibc)
import Glibc
#endif
import NetobsRecords

/// Reads the cgroup v2 hierarchy for pod cgroups: finds the kubelets' roots (see
/// `KubeletCgroups`), then maps every cgroup below them that lies in a pod to the pod's UID.
/// A cgroup v2 id, as the kernel programs report it, is the inode number of its directory.
struct PodCgroupScanner {
    /// The cgroup v2 mount.
    let root: String
    /// The kubelets' roots as last found, relative to `root`.
    private(set) var kubeletRoots: [String] = []
    /// Below a kubelet root: pods, their containers, and whatever those nest.
    static let maxDepthBelowKubeletRoot = 16

    init(root: String) { self.root = root }

    /// Every pod cgroup there is now (cgroup id → pod UID). The kubelet roots are searched for
    /// again when `refresh`, when none is known, or when some of `wanted` is not below the known
    /// ones (a kubelet started after the agent).
    mutating func scan(wanted: Set<UInt64>, refresh: Bool) -> [UInt64: String] {
        let searched = refresh || kubeletRoots.isEmpty
        if searched { kubeletRoots = findKubeletRoots() }
        var found: [UInt64: String] = [:]
        for dir in kubeletRoots { readPods(below: dir, into: &found) }
        if !searched && wanted.contains(where: { found[$0] == nil }) {
            let roots = findKubeletRoots()
            for dir in roots where !kubeletRoots.contains(dir) { readPods(below: dir, into: &found) }
            kubeletRoots = roots
        }
        return found
    }

    /// Breadth first, down to `KubeletCgroups.searchDepth`, not entering the roots found.
    func findKubeletRoots() -> [String] {
        var roots: [String] = []
        var level = [""]
        var depth = 1
        while !level.isEmpty {
            var next: [String] = []
            for dir in level {
                for child in Self.subdirectories(of: path(dir)) {
                    let relative = dir.isEmpty ? child.name : dir + "/" + child.name
                    switch KubeletCgroups.step(name: child.name, depth: depth) {
                    case .podRoot: roots.append(relative)
                    case .search: next.append(relative)
                    case .skip: break
                    }
                }
            }
            level = next
            depth += 1
        }
        return roots.sorted()
    }

    private func readPods(below kubeletRoot: String, into found: inout [UInt64: String]) {
        var level = [kubeletRoot]
        var depth = 0
        while !level.isEmpty && depth < Self.maxDepthBelowKubeletRoot {
            var next: [String] = []
            for dir in level {
                for child in Self.subdirectories(of: path(dir)) {
                    let relative = dir + "/" + child.name
                    if let uid = PodUID.fromCgroupPath(relative) { found[child.inode] = uid }
                    next.append(relative)
                }
            }
            level = next
            depth += 1
        }
    }

    private func path(_ relative: String) -> String { relative.isEmpty ? root : root + "/" + relative }

    /// The directories in `path` with their inode numbers (readdir's d_ino: for kernfs, the
    /// cgroup id). A directory that vanished meanwhile has none.
    static func subdirectories(of path: String) -> [(name: String, inode: UInt64)] {
        guard let dir = opendir(path) else { return [] }
        defer { closedir(dir) }
        var result: [(name: String, inode: UInt64)] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            guard name != ".", name != ".." else { continue }
            var isDirectory = entry.pointee.d_type == UInt8(DT_DIR)
            if entry.pointee.d_type == UInt8(DT_UNKNOWN) {
                var st = stat()
                isDirectory = lstat(path + "/" + name, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR
            }
            if isDirectory { result.append((name, UInt64(entry.pointee.d_ino))) }
        }
        return result
    }
}
