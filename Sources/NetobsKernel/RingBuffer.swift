import CLibbpf
#if canImport(Glibc)
import Glibc
#endif

/// A consumer of a BPF ring buffer map. Samples are handed to `handler` during `poll` or
/// `consume`, on the calling thread; the bytes are valid only during the call.
public final class RingBuffer {
    private final class Box {
        let handler: (UnsafeRawBufferPointer) -> Void
        init(_ handler: @escaping (UnsafeRawBufferPointer) -> Void) { self.handler = handler }
    }

    private var handle: OpaquePointer?
    private let box: Box

    public convenience init(map: BPFMap, handler: @escaping (UnsafeRawBufferPointer) -> Void) throws {
        try self.init(fd: map.fd, name: map.name, handler: handler)
    }

    /// A consumer of the ring buffer map open as `fd` (the caller keeps the descriptor open while
    /// this lives).
    public init(fd: Int32, name: String, handler: @escaping (UnsafeRawBufferPointer) -> Void) throws {
        box = Box(handler)
        let context = Unmanaged.passUnretained(box).toOpaque()
        let callback: ring_buffer_sample_fn = { ctx, data, size in
            guard let ctx, let data else { return 0 }
            let box = Unmanaged<Box>.fromOpaque(ctx).takeUnretainedValue()
            box.handler(UnsafeRawBufferPointer(start: data, count: Int(size)))
            return 0
        }
        guard let rb = ring_buffer__new(fd, callback, context, nil) else {
            throw KernelError("opening ring buffer \(name)", errno: errno)
        }
        handle = rb
    }

    deinit { close() }

    /// Waits up to `timeoutMs` for samples and handles them; returns how many were handled.
    @discardableResult
    public func poll(timeoutMs: Int32) throws -> Int {
        guard let handle else { return 0 }
        let n = ring_buffer__poll(handle, timeoutMs)
        if n < 0 && n != -EINTR { throw KernelError("polling ring buffer", errno: n) }
        return max(0, Int(n))
    }

    /// Handles every sample available now without waiting.
    @discardableResult
    public func consume() throws -> Int {
        guard let handle else { return 0 }
        let n = ring_buffer__consume(handle)
        if n < 0 { throw KernelError("consuming ring buffer", errno: n) }
        return Int(n)
    }

    public func close() {
        if let handle { ring_buffer__free(handle) }
        handle = nil
    }
}
