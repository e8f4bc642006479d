import CLibbpf
#if canImport(Glibc)
import Glibc
#endif

/// One program of a `BPFObject` (valid while the object is open).
public struct BPFProgram {
    let handle: OpaquePointer

    init(_ handle: OpaquePointer) { self.handle = handle }

    public var name: String { String(cString: bpf_program__name(handle)) }
    public var section: String { String(cString: bpf_program__section_name(handle)) }
    public var fd: Int32 { bpf_program__fd(handle) }

    /// The kernel's id of the loaded program (what `bpftool prog` lists); nil before load.
    public var id: UInt32? {
        var info = bpf_prog_info()
        var length = UInt32(MemoryLayout<bpf_prog_info>.size)
        return bpf_obj_get_info_by_fd(fd, &info, &length) == 0 ? info.id : nil
    }

    /// The tracepoint a `tp_btf/NAME` or `raw_tp/NAME` program hooks, if it is one.
    public var tracepoint: String? {
        for prefix in ["tp_btf/", "raw_tp/", "raw_tracepoint/"] where section.hasPrefix(prefix) {
            return String(section.dropFirst(prefix.count))
        }
        return nil
    }

    public var isCgroupProgram: Bool { section.hasPrefix("cgroup/") }
    public var isIterator: Bool { section.hasPrefix("iter/") }

    /// Whether `BPFObject.load()` loads this program; set before loading.
    public var autoload: Bool {
        get { bpf_program__autoload(handle) }
        nonmutating set { bpf_program__set_autoload(handle, newValue) }
    }

    func attach() throws -> BPFLink {
        let (link, log) = LibbpfLog.capturing { bpf_program__attach(handle) }
        let err = libbpf_get_error(UnsafeRawPointer(link))
        guard let link, err == 0 else {
            throw KernelError("attaching \(name) (\(section))", errno: Int32(err), log: log)
        }
        return BPFLink(link)
    }

    func attach(cgroup path: String) throws -> BPFLink {
        let fd = open(path, O_RDONLY | O_DIRECTORY)
        guard fd >= 0 else { throw KernelError("opening cgroup \(path)", errno: errno) }
        defer { Glibc.close(fd) }
        let (link, log) = LibbpfLog.capturing { bpf_program__attach_cgroup(handle, fd) }
        let err = libbpf_get_error(UnsafeRawPointer(link))
        guard let link, err == 0 else {
            throw KernelError("attaching \(name) to cgroup \(path)", errno: Int32(err), log: log)
        }
        return BPFLink(link)
    }
}

extension BPFProgram {
    /// Attaches a `uprobe`/`uretprobe` program to `function` of the ELF file at `binary`, for
    /// every process that maps that file (pid -1): the kernel probes the file's inode, so
    /// processes started later are covered too. libbpf resolves the symbol's offset.
    func attachUprobe(binary: String, function: String, retprobe: Bool) throws -> BPFLink {
        var opts = bpf_uprobe_opts()
        opts.sz = MemoryLayout<bpf_uprobe_opts>.size
        opts.retprobe = retprobe
        let (link, log) = function.withCString { fn in
            LibbpfLog.capturing { () -> OpaquePointer? in
                opts.func_name = fn
                return bpf_program__attach_uprobe_opts(handle, -1, binary, 0, &opts)
            }
        }
        let err = libbpf_get_error(UnsafeRawPointer(link))
        guard let link, err == 0 else {
            throw KernelError("attaching \(name) to \(function) in \(binary)", errno: Int32(err), log: log)
        }
        return BPFLink(link)
    }
}

/// An attachment; destroying it detaches the program.
final class BPFLink {
    private var handle: OpaquePointer?
    init(_ handle: OpaquePointer) { self.handle = handle }
    var fd: Int32 { handle.map { bpf_link__fd($0) } ?? -1 }
    func destroy() {
        if let handle { bpf_link__destroy(handle) }
        handle = nil
    }
    deinit { destroy() }
}
