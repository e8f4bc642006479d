#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Foundation

/// The cgroup v2 operations a lab needs: find the mount, make directories, read their ids,
/// kill everything inside, remove them.
public enum CgroupV2 {
    /// The cgroup2 mount point from /proc/mounts. On hybrid hosts (cgroup v1 controllers plus
    /// a v2 tree, like this project's VMs) it is /sys/fs/cgroup/unified, elsewhere /sys/fs/cgroup.
    public static func mountPoint() throws -> String {
        guard let mounts = try? String(contentsOfFile: "/proc/mounts", encoding: .utf8) else {
            throw NodeLabError.noCgroup2Mount
        }
        for line in mounts.split(separator: "\n") {
            let fields = line.split(separator: " ")
            if fields.count >= 3, fields[2] == "cgroup2" {
                return unescapeMountPath(String(fields[1]))
            }
        }
        throw NodeLabError.noCgroup2Mount
    }

    /// The cgroup id BPF sees (bpf_get_current_cgroup_id, kernfs node id): on 64-bit kernels
    /// the kernfs inode number is that id.
    public static func id(of path: String) throws -> UInt64 {
        try inode(of: path)
    }

    public static func create(_ path: String) throws {
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        } catch {
            throw NodeLabError.system("mkdir -p \(path)", errno: errno == 0 ? EIO : errno)
        }
    }

    /// Moves `pid` into the cgroup at `path`.
    static func attach(pid: pid_t, to path: String) throws {
        try writeFile("\(pid)", to: path + "/cgroup.procs")
    }

    /// Pids directly in the cgroup at `path` (not its children).
    static func procs(_ path: String) -> [pid_t] {
        guard let text = try? String(contentsOfFile: path + "/cgroup.procs", encoding: .utf8) else { return [] }
        return text.split(separator: "\n").compactMap { pid_t($0) }
    }

    /// SIGKILLs every process in the subtree: `cgroup.kill` (kernel ≥ 5.14) does it atomically,
    /// so a forking workload cannot escape; older kernels get a per-pid sweep.
    static func killAll(in path: String) {
        guard exists(path) else { return }
        if (try? writeFile("1", to: path + "/cgroup.kill")) != nil { return }
        for dir in subtree(path) {
            for pid in procs(dir) { kill(pid, SIGKILL) }
        }
    }

    /// Removes the subtree bottom-up (rmdir only: the interface files inside cannot be
    /// unlinked), retrying while killed processes finish exiting. Returns false on timeout.
    @discardableResult
    public static func removeTree(_ path: String, timeout: TimeInterval = 5) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while exists(path) {
            for dir in subtree(path).reversed() { rmdir(dir) }
            if !exists(path) { break }
            if Date() > deadline { return false }
            killAll(in: path)
            usleep(20_000)
        }
        return true
    }

    /// `path` and every cgroup below it, parents before children.
    static func subtree(_ path: String) -> [String] {
        var result = [path]
        var index = 0
        while index < result.count {
            let dir = result[index]
            index += 1
            for name in (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? [] where isDirectory(dir + "/" + name) {
                result.append(dir + "/" + name)
            }
        }
        return result
    }

    public static func exists(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0
    }

    static func isDirectory(_ path: String) -> Bool {
        var st = stat()
        return lstat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR
    }

    static func inode(of path: String) throws -> UInt64 {
        var st = stat()
        guard stat(path, &st) == 0 else { throw NodeLabError.system("stat \(path)", errno: errno) }
        return UInt64(st.st_ino)
    }

    private static func writeFile(_ text: String, to file: String) throws {
        let fd = open(file, O_WRONLY | O_CLOEXEC)
        guard fd >= 0 else { throw NodeLabError.system("open \(file)", errno: errno) }
        defer { close(fd) }
        let n = text.withCString { write(fd, $0, strlen($0)) }
        guard n >= 0 else { throw NodeLabError.system("write '\(text)' to \(file)", errno: errno) }
    }

    /// /proc/mounts escapes space, tab, newline and backslash as \ooo octal.
    private static func unescapeMountPath(_ raw: String) -> String {
        var out = ""
        var chars = raw.makeIterator()
        while let c = chars.next() {
            if c == "\\" {
                let octal = String([chars.next(), chars.next(), chars.next()].compactMap { $0 })
                if let code = UInt8(octal, radix: 8) { out.append(Character(UnicodeScalar(code))) } else { out += "\\" + octal }
            } else {
                out.append(c)
            }
        }
        return out
    }
}
