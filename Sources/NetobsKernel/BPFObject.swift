import CLibbpf
#if canImport(Glibc)
import Glibc
#endif

/// A BPF object file opened from bytes: its programs and maps, loaded into the kernel on
/// `load()`, freed (programs detached, maps released unless shared) on `close()` or deinit.
public final class BPFObject {
    private var handle: OpaquePointer?
    private var links: [BPFLink] = []
    private var iterators: [BPFIterator] = []
    private let bytes: [UInt8] // libbpf keeps pointers into the image until close
    public let name: String

    public init(bytes: [UInt8], name: String) throws {
        self.name = name
        self.bytes = bytes
        LibbpfLog.install()
        var handle: OpaquePointer?
        var err: Int32 = 0
        let (_, log) = name.withCString { cname in
            LibbpfLog.capturing {
                var opts = bpf_object_open_opts()
                opts.sz = MemoryLayout<bpf_object_open_opts>.size
                opts.object_name = cname
                handle = self.bytes.withUnsafeBytes { raw in
                    bpf_object__open_mem(raw.baseAddress, raw.count, &opts)
                }
                err = Int32(libbpf_get_error(UnsafeRawPointer(handle)))
            }
        }
        guard let handle, err == 0 else {
            throw KernelError("opening BPF object \(name)", errno: err == 0 ? errno : err, log: log)
        }
        self.handle = handle
    }

    deinit { close() }

    public var programs: [BPFProgram] {
        guard let handle else { return [] }
        var result: [BPFProgram] = []
        var prog = bpf_object__next_program(handle, nil)
        while let p = prog {
            result.append(BPFProgram(p))
            prog = bpf_object__next_program(handle, p)
        }
        return result
    }

    public func program(named name: String) -> BPFProgram? {
        guard let handle, let p = bpf_object__find_program_by_name(handle, name) else { return nil }
        return BPFProgram(p)
    }

    public func map(named name: String) throws -> BPFMap {
        guard let handle, let m = bpf_object__find_map_by_name(handle, name) else {
            throw KernelError("finding map \(name) in \(self.name)", errno: ENOENT)
        }
        return BPFMap(m)
    }

    /// Sets a `const volatile` global of the programs (in .rodata) before `load()`.
    public func setReadOnlyGlobal(_ variable: String, to value: UInt32) throws {
        guard let handle, let btf = bpf_object__btf(handle),
              let rodata = bpf_object__find_map_by_name(handle, ".rodata") else {
            throw KernelError("finding .rodata of \(name)", errno: ENOENT)
        }
        let offset = netobs_btf_datasec_var_offset(btf, ".rodata", variable)
        var size = 0
        guard offset >= 0, let data = bpf_map__initial_value(rodata, &size), offset + 4 <= size else {
            throw KernelError("finding global \(variable) in \(name)", errno: ENOENT)
        }
        // libbpf documents the initial image as writable until load.
        UnsafeMutableRawPointer(mutating: data).storeBytes(of: value, toByteOffset: offset, as: UInt32.self)
    }

    /// The object's own maps, not the internal ones of its data sections.
    public var maps: [BPFMap] {
        guard let handle else { return [] }
        var result: [BPFMap] = []
        var map = bpf_object__next_map(handle, nil)
        while let m = map {
            if !bpf_map__is_internal(m) { result.append(BPFMap(m)) }
            map = bpf_object__next_map(handle, m)
        }
        return result
    }

    /// Shares the maps of `running` (a loaded copy of an earlier version) instead of creating
    /// them: how state survives a program swap. A map `running` lacks or did not create (one a
    /// newer version adds) starts afresh. Call before `load()`.
    public func reuseMaps(of running: BPFObject) throws {
        for map in maps {
            guard let old = try? running.map(named: map.name), old.fd >= 0 else { continue }
            try map.reuse(fd: old.fd)
        }
    }

    /// Loads every program marked for autoload; a verifier rejection carries its log.
    public func load() throws {
        guard let handle else { throw KernelError("loading \(name) (closed)", errno: EBADF) }
        let (rc, log) = LibbpfLog.capturing { bpf_object__load(handle) }
        if rc != 0 { throw KernelError("loading BPF object \(name)", errno: rc, log: log) }
    }

    /// Attaches a loaded program by its section (tp_btf/..., raw_tp/...), kept until close.
    public func attach(_ program: BPFProgram) throws {
        links.append(try program.attach())
    }

    /// Attaches a cgroup program (cgroup_skb/egress, ...) to the cgroup at `path`.
    public func attach(_ program: BPFProgram, cgroup path: String) throws {
        links.append(try program.attach(cgroup: path))
    }

    /// Attaches a uprobe program to `function` in the ELF file at `binary` (every process that
    /// maps it), kept until close.
    public func attachUprobe(_ program: BPFProgram, binary: String, function: String, retprobe: Bool) throws {
        links.append(try program.attachUprobe(binary: binary, function: function, retprobe: retprobe))
    }

    /// Attaches an `iter/...` program to `map`; the iterator is closed with the object.
    public func attachIterator(_ program: BPFProgram, map: BPFMap) throws -> BPFIterator {
        let iterator = try BPFIterator(program: program, map: map)
        iterators.append(iterator)
        return iterator
    }

    /// Detaches every program and frees the object. Idempotent.
    public func close() {
        for iterator in iterators { iterator.close() }
        iterators.removeAll()
        for link in links { link.destroy() }
        links.removeAll()
        if let handle { bpf_object__close(handle) }
        handle = nil
    }
}
