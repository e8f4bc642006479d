import CLibbpf
#if canImport(Glibc)
import Glibc
#endif

/// What the running kernel allows, probed with libbpf (each probe loads a trivial program of
/// the type, as `bpftool feature probe kernel` does). Needs the privileges the agent has.
public struct KernelFeatures: Sendable {
    /// Every program type netobs may use, by the name bpftool prints.
    public static let programTypeNames: [(name: String, type: bpf_prog_type)] = [
        ("tracing", BPF_PROG_TYPE_TRACING),
        ("tracepoint", BPF_PROG_TYPE_TRACEPOINT),
        ("raw_tracepoint", BPF_PROG_TYPE_RAW_TRACEPOINT),
        ("cgroup_skb", BPF_PROG_TYPE_CGROUP_SKB),
        ("cgroup_sock", BPF_PROG_TYPE_CGROUP_SOCK),
        ("cgroup_sock_addr", BPF_PROG_TYPE_CGROUP_SOCK_ADDR),
        ("sock_ops", BPF_PROG_TYPE_SOCK_OPS),
        ("kprobe", BPF_PROG_TYPE_KPROBE),
        ("socket_filter", BPF_PROG_TYPE_SOCKET_FILTER),
        ("sched_cls", BPF_PROG_TYPE_SCHED_CLS),
    ]

    public let kernelRelease: String
    public let hasBTF: Bool
    /// Program type name -> whether the kernel loads it.
    public let programTypes: [String: Bool]

    public init(kernelRelease: String, hasBTF: Bool, programTypes: [String: Bool]) {
        self.kernelRelease = kernelRelease
        self.hasBTF = hasBTF
        self.programTypes = programTypes
    }

    public static func probe() -> KernelFeatures {
        LibbpfLog.install() // keeps the probes' messages off stderr
        var types: [String: Bool] = [:]
        for (name, type) in programTypeNames {
            let (rc, _) = LibbpfLog.capturing { libbpf_probe_bpf_prog_type(type, nil) }
            types[name] = rc == 1
        }
        return KernelFeatures(kernelRelease: release(), hasBTF: access(KernelBTF.path, R_OK) == 0,
                              programTypes: types)
    }

    public func allows(_ programType: String) -> Bool { programTypes[programType] ?? false }

    public static func release() -> String {
        var u = utsname()
        uname(&u)
        return withUnsafeBytes(of: u.release) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
    }
}
