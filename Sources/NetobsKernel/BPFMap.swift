import CLibbpf
#if canImport(Glibc)
import Glibc
#endif

/// A BPF map, addressed by raw key and value bytes. Typed views live with the callers,
/// which know the layouts (CNetobsLayout).
public struct BPFMap: @unchecked Sendable {
    let handle: OpaquePointer

    init(_ handle: OpaquePointer) { self.handle = handle }

    public var name: String { String(cString: bpf_map__name(handle)) }
    public var fd: Int32 { bpf_map__fd(handle) }
    public var keySize: Int { Int(bpf_map__key_size(handle)) }
    public var valueSize: Int { Int(bpf_map__value_size(handle)) }
    public var maxEntries: Int { Int(bpf_map__max_entries(handle)) }
    public var type: bpf_map_type { bpf_map__type(handle) }

    /// Size of a full value as user space sees it: per-CPU maps hold one (8-byte aligned)
    /// value per possible CPU.
    public var userValueSize: Int {
        isPerCPU ? Self.roundUp8(valueSize) * Self.possibleCPUs : valueSize
    }

    public var isPerCPU: Bool {
        switch type {
        case BPF_MAP_TYPE_PERCPU_HASH, BPF_MAP_TYPE_PERCPU_ARRAY, BPF_MAP_TYPE_LRU_PERCPU_HASH:
            return true
        default:
            return false
        }
    }

    public static let possibleCPUs: Int = max(1, Int(libbpf_num_possible_cpus()))

    static func roundUp8(_ n: Int) -> Int { (n + 7) & ~7 }

    /// Sizes the map; call before `BPFObject.load()`.
    public func setMaxEntries(_ count: Int) throws {
        let rc = bpf_map__set_max_entries(handle, UInt32(count))
        if rc != 0 { throw KernelError("sizing map \(name) to \(count) entries", errno: rc) }
    }

    /// Whether `BPFObject.load()` creates the map (false for a map only programs left out use).
    public func setAutocreate(_ create: Bool) throws {
        let rc = bpf_map__set_autocreate(handle, create)
        if rc != 0 { throw KernelError("setting autocreate of map \(name)", errno: rc) }
    }

    /// Reuses an existing map (from a previous object or a pinned path) instead of creating
    /// one at load: how state survives a program swap. Call before `BPFObject.load()`.
    public func reuse(fd existing: Int32) throws {
        let rc = bpf_map__reuse_fd(handle, existing)
        if rc != 0 { throw KernelError("reusing map fd for \(name)", errno: rc) }
    }

    public func lookup(key: [UInt8]) -> [UInt8]? {
        var value = [UInt8](repeating: 0, count: userValueSize)
        let rc = key.withUnsafeBytes { k in
            value.withUnsafeMutableBytes { v in bpf_map_lookup_elem(fd, k.baseAddress, v.baseAddress) }
        }
        return rc == 0 ? value : nil
    }

    public func update(key: [UInt8], value: [UInt8], flags: UInt64 = UInt64(BPF_ANY)) throws {
        let rc = key.withUnsafeBytes { k in
            value.withUnsafeBytes { v in bpf_map_update_elem(fd, k.baseAddress, v.baseAddress, flags) }
        }
        if rc != 0 { throw KernelError("updating map \(name)", errno: errno) }
    }

    /// Reads one key's value and deletes it in one step (nothing the kernel adds in between is
    /// lost); nil when it was not there.
    public func lookupAndDelete(key: [UInt8]) -> [UInt8]? {
        var value = [UInt8](repeating: 0, count: userValueSize)
        let rc = key.withUnsafeBytes { k in
            value.withUnsafeMutableBytes { v in bpf_map_lookup_and_delete_elem(fd, k.baseAddress, v.baseAddress) }
        }
        return rc == 0 ? value : nil
    }

    /// Deletes one key; false when it was not there.
    @discardableResult
    public func delete(key: [UInt8]) -> Bool {
        key.withUnsafeBytes { bpf_map_delete_elem(fd, $0.baseAddress) } == 0
    }

    /// Every key, walking with get_next_key (for maps or kernels without batch support).
    public func keys() -> [[UInt8]] {
        var result: [[UInt8]] = []
        var current: [UInt8]? = nil
        var next = [UInt8](repeating: 0, count: keySize)
        while true {
            let rc: Int32 = next.withUnsafeMutableBytes { n in
                if let current {
                    return current.withUnsafeBytes { c in bpf_map_get_next_key(fd, c.baseAddress, n.baseAddress) }
                }
                return bpf_map_get_next_key(fd, nil, n.baseAddress)
            }
            guard rc == 0 else { break }
            result.append(next)
            current = next
        }
        return result
    }

    /// All entries, read in batches of `batchSize` with BPF_MAP_LOOKUP_BATCH (one system call
    /// per batch instead of two per entry); falls back to key iteration where unsupported.
    /// `body` sees each key and value; the buffers are valid only during the call.
    public func forEach(batchSize: Int = 4096,
                        _ body: (UnsafeRawBufferPointer, UnsafeRawBufferPointer) -> Void) throws {
        let ks = keySize, vs = userValueSize
        var keys = [UInt8](repeating: 0, count: ks * batchSize)
        var values = [UInt8](repeating: 0, count: vs * batchSize)
        var inBatch: UInt64 = 0, outBatch: UInt64 = 0
        var first = true
        while true {
            var count = UInt32(batchSize)
            var opts = bpf_map_batch_opts()
            opts.sz = MemoryLayout<bpf_map_batch_opts>.size
            let rc: Int32 = keys.withUnsafeMutableBytes { k in
                values.withUnsafeMutableBytes { v in
                    withUnsafeMutablePointer(to: &inBatch) { inPtr in
                        bpf_map_lookup_batch(fd, first ? nil : UnsafeMutableRawPointer(inPtr), &outBatch,
                                             k.baseAddress, v.baseAddress, &count, &opts)
                    }
                }
            }
            let err = rc == 0 ? 0 : errno
            if rc != 0 && err != ENOENT {
                if first && (err == EINVAL || err == ENOTSUP || err == EOPNOTSUPP) {
                    return try forEachByKey(body)
                }
                throw KernelError("reading map \(name) in batches", errno: err)
            }
            keys.withUnsafeBytes { k in
                values.withUnsafeBytes { v in
                    for i in 0..<Int(count) {
                        body(UnsafeRawBufferPointer(rebasing: k[(i * ks)..<((i + 1) * ks)]),
                             UnsafeRawBufferPointer(rebasing: v[(i * vs)..<((i + 1) * vs)]))
                    }
                }
            }
            if err == ENOENT { return } // no more entries
            inBatch = outBatch
            first = false
        }
    }

    private func forEachByKey(_ body: (UnsafeRawBufferPointer, UnsafeRawBufferPointer) -> Void) throws {
        for key in keys() {
            guard let value = lookup(key: key) else { continue } // deleted meanwhile
            key.withUnsafeBytes { k in value.withUnsafeBytes { v in body(k, v) } }
        }
    }

    /// Takes every key out of the map, in batches of BPF_MAP_LOOKUP_AND_DELETE_BATCH (each entry
    /// read and deleted in one step, so a key added meanwhile is either taken or stays for the
    /// next call, never lost). Values are not returned.
    public func takeKeys(batchSize: Int = 4096) throws -> [[UInt8]] {
        let ks = keySize, vs = userValueSize
        var keys = [UInt8](repeating: 0, count: ks * batchSize)
        var values = [UInt8](repeating: 0, count: vs * batchSize)
        var taken: [[UInt8]] = []
        var inBatch: UInt64 = 0, outBatch: UInt64 = 0
        var first = true
        while true {
            var count = UInt32(batchSize)
            var opts = bpf_map_batch_opts()
            opts.sz = MemoryLayout<bpf_map_batch_opts>.size
            let rc: Int32 = keys.withUnsafeMutableBytes { k in
                values.withUnsafeMutableBytes { v in
                    withUnsafeMutablePointer(to: &inBatch) { inPtr in
                        bpf_map_lookup_and_delete_batch(fd, first ? nil : UnsafeMutableRawPointer(inPtr), &outBatch,
                                                        k.baseAddress, v.baseAddress, &count, &opts)
                    }
                }
            }
            let err = rc == 0 ? 0 : errno
            if rc != 0 && err != ENOENT { throw KernelError("taking the keys of map \(name)", errno: err) }
            for i in 0..<Int(count) { taken.append(Array(keys[(i * ks)..<((i + 1) * ks)])) }
            if err == ENOENT { return taken }
            inBatch = outBatch
            first = false
        }
    }

    /// Deletes many keys with one BPF_MAP_DELETE_BATCH call (falls back to one by one).
    /// Returns how many were deleted.
    @discardableResult
    public func delete(keys: [[UInt8]]) -> Int {
        guard !keys.isEmpty else { return 0 }
        var flat = [UInt8]()
        flat.reserveCapacity(keys.count * keySize)
        for key in keys { flat.append(contentsOf: key) }
        var count = UInt32(keys.count)
        var opts = bpf_map_batch_opts()
        opts.sz = MemoryLayout<bpf_map_batch_opts>.size
        let rc = flat.withUnsafeBytes { bpf_map_delete_batch(fd, $0.baseAddress, &count, &opts) }
        if rc == 0 { return Int(count) }
        // A key that vanished meanwhile stops the batch (ENOENT): finish one by one.
        return Int(count) + keys[Int(count)...].reduce(0) { $0 + (delete(key: $1) ? 1 : 0) }
    }

    /// Sums a per-CPU array of u64 counters: element i summed over all CPUs.
    public func perCPUSums(count: Int) -> [UInt64] {
        precondition(isPerCPU && valueSize == 8)
        return (0..<count).map { index in
            var key = UInt32(index)
            let key8 = withUnsafeBytes(of: &key) { [UInt8]($0) }
            guard let raw = lookup(key: key8) else { return 0 }
            return raw.withUnsafeBytes { buf in
                (0..<Self.possibleCPUs).reduce(UInt64(0)) { sum, cpu in
                    sum &+ buf.loadUnaligned(fromByteOffset: cpu * 8, as: UInt64.self)
                }
            }
        }
    }
}
