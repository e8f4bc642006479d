import CLibbpf
#if canImport(Glibc)
import Glibc
#endif

/// The running kernel's BTF: which tracepoints exist, and the names of kernel enums
/// (drop reasons) for records that people read.
public final class KernelBTF {
    private let handle: OpaquePointer

    public static let path = "/sys/kernel/btf/vmlinux"

    public init() throws {
        guard access(Self.path, R_OK) == 0 else {
            throw KernelError("reading \(Self.path): the kernel has no BTF (CONFIG_DEBUG_INFO_BTF); "
                + "netobs needs it for CO-RE programs", errno: ENOENT)
        }
        guard let btf = btf__load_vmlinux_btf() else {
            throw KernelError("loading kernel BTF", errno: errno)
        }
        handle = btf
    }

    deinit { btf__free(handle) }

    /// Whether the kernel has the tracepoint `name` (e.g. "tcp_probe") for tp_btf programs.
    public func hasTracepoint(_ name: String) -> Bool {
        btf__find_by_name_kind(handle, "btf_trace_" + name, UInt32(BTF_KIND_TYPEDEF)) > 0
    }

    /// Value -> name of every enumerator of `enum NAME`, e.g. "skb_drop_reason".
    public func enumerators(of name: String) -> [Int64: String] {
        var id = btf__find_by_name_kind(handle, name, UInt32(BTF_KIND_ENUM))
        if id <= 0 { id = btf__find_by_name_kind(handle, name, 19 /* BTF_KIND_ENUM64 */) }
        guard id > 0, let type = btf__type_by_id(handle, UInt32(id)),
              netobs_btf_is_any_enum(type) != 0 else { return [:] }
        var result: [Int64: String] = [:]
        for i in 0..<netobs_btf_vlen(type) {
            guard let cname = netobs_btf_enum_name(handle, type, i) else { continue }
            result[netobs_btf_enum_value(type, i)] = String(cString: cname)
        }
        return result
    }
}
