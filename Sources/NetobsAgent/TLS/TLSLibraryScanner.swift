import Foundation
import NetobsRecords
#if canImport(Glibc)
import Glibc
#endif

/// Finds the TLS libraries the node's processes map (`/proc/PID/maps`), through each process's
/// own root (`/proc/PID/root/...`: a pod's mount namespace): OpenSSL libssl files to probe,
/// each file once (by device and inode), and processes using a TLS library the probes do not
/// cover (statically linked OpenSSL, Go's crypto/tls, GnuTLS, NSS, ...).
struct TLSLibraryScanner {
    struct FileID: Hashable {
        var device: UInt64
        var inode: UInt64
    }

    struct Found {
        /// libssl files not seen before: the path to open (through /proc/PID/root) and what
        /// the process calls it.
        var libraries: [(id: FileID, path: String, mapped: String)] = []
        /// Processes seen for the first time with TLS the probes cannot read.
        var unsupported: [(pid: UInt32, comm: String, cgroupID: UInt64, library: String)] = []
    }

    private(set) var known: [FileID: String] = [:]
    private var reportedPids: Set<UInt32> = []
    private var executables: [FileID: String?] = [:]

    static func pids() -> [UInt32] {
        ((try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []).compactMap(UInt32.init)
    }

    mutating func scanAll(skip: UInt32 = UInt32(getpid())) -> Found {
        var found = Found()
        for pid in Self.pids() where pid != skip { scan(pid: pid, into: &found) }
        return found
    }

    mutating func scan(pid: UInt32, into found: inout Found) {
        guard let maps = ProcFile.read("/proc/\(pid)/maps") else { return }
        let root = "/proc/\(pid)/root"
        var unsupported: String?
        var usesOpenSSL = false
        for file in TLSLibrary.mappedFiles(maps: maps) {
            switch TLSLibrary.classify(path: file) {
            case .openssl?:
                usesOpenSSL = true
                let path = root + file
                guard let id = Self.fileID(path), known[id] == nil else { continue }
                known[id] = file
                found.libraries.append((id, path, file))
            case .unsupported(let label)?:
                unsupported = unsupported ?? label
            case nil:
                continue
            }
        }
        if unsupported == nil, !usesOpenSSL { unsupported = staticTLS(pid: pid) }
        guard let library = unsupported, reportedPids.insert(pid).inserted else { return }
        found.unsupported.append((pid, Self.comm(pid), Self.cgroupID(pid), library))
    }

    /// Forgets processes that are gone (a pid may be reused).
    mutating func forget(pids gone: Set<UInt32>) { reportedPids.subtract(gone) }

    /// A TLS implementation built into the executable: OpenSSL linked statically (its SSL_write
    /// in the symbols) or Go (crypto/tls in its symbols or build info). Cached per file.
    private mutating func staticTLS(pid: UInt32) -> String? {
        let exe = "/proc/\(pid)/exe"
        guard let id = Self.fileID(exe) else { return nil }
        if let cached = executables[id] { return cached }
        let verdict = ELFSymbols.staticTLS(path: exe)
        executables[id] = verdict
        return verdict
    }

    static func fileID(_ path: String) -> FileID? {
        var st = stat()
        guard stat(path, &st) == 0 else { return nil }
        return FileID(device: UInt64(st.st_dev), inode: UInt64(st.st_ino))
    }

    static func comm(_ pid: UInt32) -> String {
        (ProcFile.read("/proc/\(pid)/comm") ?? "")
            .trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// The cgroup v2 id of the process: the inode of its cgroup directory.
    static func cgroupID(_ pid: UInt32) -> UInt64 {
        guard let text = ProcFile.read("/proc/\(pid)/cgroup"),
              let line = text.split(separator: "\n").first(where: { $0.hasPrefix("0::") }),
              let mount = CgroupMount.v2Root() else { return 0 }
        var st = stat()
        return stat(mount + line.dropFirst(3), &st) == 0 ? UInt64(st.st_ino) : 0
    }
}
