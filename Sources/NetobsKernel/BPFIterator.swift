import CLibbpf
#if canImport(Glibc)
import Glibc
#endif

/// A BPF iterator attached to a map (e.g. `iter/bpf_sk_storage_map`): each `read()` runs the
/// program over every element and returns what it wrote with bpf_seq_write.
public final class BPFIterator {
    private let link: BPFLink
    private let name: String

    init(program: BPFProgram, map: BPFMap) throws {
        var info = bpf_iter_link_info()
        info.map.map_fd = UInt32(bitPattern: map.fd)
        var opts = bpf_iter_attach_opts()
        // Up to the last field only: libbpf rejects non-zero bytes past it, and Swift does not
        // promise zeroed tail padding.
        opts.sz = MemoryLayout<bpf_iter_attach_opts>.offset(of: \.link_info_len)! + MemoryLayout<UInt32>.size
        opts.link_info_len = UInt32(MemoryLayout<bpf_iter_link_info>.size)
        let (handle, log) = withUnsafeMutablePointer(to: &info) { infoPtr in
            opts.link_info = infoPtr
            return LibbpfLog.capturing { bpf_program__attach_iter(program.handle, &opts) }
        }
        let err = libbpf_get_error(UnsafeRawPointer(handle))
        guard let handle, err == 0 else {
            throw KernelError("attaching iterator \(program.name) to map \(map.name)", errno: Int32(err), log: log)
        }
        link = BPFLink(handle)
        name = program.name
    }

    /// One full pass; the bytes are the concatenated records.
    public func read() throws -> [UInt8] {
        let fd = bpf_iter_create(link.fd)
        guard fd >= 0 else { throw KernelError("starting iterator \(name)", errno: errno) }
        defer { Glibc.close(fd) }
        var result: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n == 0 { return result }
            if n < 0 {
                if errno == EINTR { continue }
                throw KernelError("reading iterator \(name)", errno: errno)
            }
            result.append(contentsOf: chunk[0..<n])
        }
    }

    public func close() { link.destroy() }
}
