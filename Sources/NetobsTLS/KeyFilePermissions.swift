#if canImport(Glibc)
import Glibc
#endif

/// The check a key file must pass before a long-lived secret (the CA key) is read from it: no
/// access for others, and no group access beyond reading by one of this process's own groups.
/// Owner-only (0600, 0400) always passes; 0440/0640 pass only with the file's group ours, which
/// is how Kubernetes mounts a Secret for a pod's fsGroup.
public enum KeyFilePermissions {
    /// Nil when `path` may hold a key, else why not (for an error message).
    public static func problem(_ path: String) -> String? {
        var info = stat()
        guard stat(path, &info) == 0 else { return "cannot stat \(path): \(String(cString: strerror(errno)))" }
        guard info.st_mode & S_IFMT == S_IFREG else { return "\(path) is not a regular file" }
        let mode = info.st_mode & 0o777
        let octal = String(mode, radix: 8)
        if mode & 0o007 != 0 || mode & 0o030 != 0 {
            return "\(path) has mode \(octal): a key file must not be accessible to others (chmod 600)"
        }
        if mode & 0o040 != 0 && !ownGroups().contains(info.st_gid) {
            return "\(path) has mode \(octal) and group \(info.st_gid), which is not this process's: chmod 600"
        }
        return nil
    }

    private static func ownGroups() -> Set<gid_t> {
        var groups = [gid_t](repeating: 0, count: 256)
        let n = getgroups(Int32(groups.count), &groups)
        return Set(groups.prefix(max(0, Int(n)))).union([getegid()])
    }
}
