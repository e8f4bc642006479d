#if canImport(Glibc)
import Glibc
#endif

/// Checks, with clear messages, what the kernel side needs before anything is loaded.
public enum Preflight {
    public struct Failure: Error, CustomStringConvertible, Sendable {
        public let description: String
    }

    /// Root (or CAP_BPF + CAP_PERFMON + CAP_NET_ADMIN) and kernel BTF.
    public static func check() throws {
        if geteuid() != 0 && !hasBPFCapabilities() {
            throw Failure(description: "netobs-agent must run as root (or with CAP_BPF, CAP_PERFMON, "
                + "CAP_NET_ADMIN and CAP_SYS_RESOURCE) to load eBPF programs")
        }
        if access(KernelBTF.path, R_OK) != 0 {
            throw Failure(description: "\(KernelBTF.path) is missing: this kernel was built without BTF "
                + "(CONFIG_DEBUG_INFO_BTF=y); netobs's CO-RE programs cannot be loaded")
        }
    }

    /// CapEff bits 38 (CAP_PERFMON) and 39 (CAP_BPF) from /proc/self/status.
    static func hasBPFCapabilities() -> Bool {
        guard let file = fopen("/proc/self/status", "r") else { return false }
        defer { fclose(file) }
        var line = [CChar](repeating: 0, count: 256)
        while fgets(&line, Int32(line.count), file) != nil {
            let text = String(decoding: line.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            guard text.hasPrefix("CapEff:") else { continue }
            let hex = text.dropFirst("CapEff:".count).trimmingCharacters(in: " \t\n")
            guard let caps = UInt64(hex, radix: 16) else { return false }
            return caps & (1 << 38) != 0 && caps & (1 << 39) != 0
        }
        return false
    }
}

private extension Substring {
    func trimmingCharacters(in set: String) -> String {
        String(drop { set.contains($0) }.reversed().drop { set.contains($0) }.reversed())
    }
}
