#if canImport(Glibc)
import Glibc
#endif

/// Where the cgroup v2 hierarchy is mounted: /sys/fs/cgroup on unified hosts,
/// /sys/fs/cgroup/unified on hybrid ones.
public enum CgroupMount {
    public static func v2Root(mounts path: String = "/proc/mounts") -> String? {
        guard let file = fopen(path, "r") else { return nil }
        defer { fclose(file) }
        var line = [CChar](repeating: 0, count: 4096)
        while fgets(&line, Int32(line.count), file) != nil {
            let fields = String(decoding: line.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self).split(separator: " ")
            if fields.count > 2 && fields[2] == "cgroup2" { return String(fields[1]) }
        }
        return nil
    }
}
