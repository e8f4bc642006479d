import NetobsKernel
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Drains a BPF ring buffer on a thread of its own, so that a slow flush (records, JSON, a
/// program swap) never leaves the ring to fill: the thread sleeps in epoll until the kernel
/// wakes it (the programs force a wakeup once a backlog builds) or `pollMs` passes, decodes
/// each sample and keeps it for the next `take()`. The ring is read through a descriptor of its
/// own, so a hot swap (the new programs share the map) does not disturb it.
final class RingDrainer<Sample: Sendable>: Sendable {
    private let samples = Mutex<[Sample]>([])
    private let stopping = Atomic<Bool>(false)
    private let failure = Mutex<String?>(nil)
    private let thread: Mutex<pthread_t?> = Mutex(nil)
    /// How full the ring got before each read, for the agent's /metrics.
    let fill: RingFillPeak

    /// Starts draining `map`; `decode` turns a sample into a value (nil: dropped as malformed).
    init(map: BPFMap, pollMs: Int32 = 50, decode: @escaping @Sendable (UnsafeRawBufferPointer) -> Sample?) throws {
        fill = try RingFillPeak(map: map)
        let fd = fcntl(map.fd, F_DUPFD_CLOEXEC, 0)
        guard fd >= 0 else { throw KernelError("duplicating ring buffer \(map.name)", errno: errno) }
        let name = map.name
        let body: @Sendable () -> Void = { [self] in
            do {
                let ring = try RingBuffer(fd: fd, name: name) { raw in
                    if let sample = decode(raw) { self.samples.withLock { $0.append(sample) } }
                }
                while !stopping.load(ordering: .relaxed) {
                    // poll returns early only on a wakeup; samples written without one are
                    // read by the consume after each timeout.
                    fill.sample()
                    try ring.poll(timeoutMs: pollMs)
                    fill.sample()
                    try ring.consume()
                }
                try ring.consume()
                ring.close()
            } catch {
                failure.withLock { $0 = "\(error)" }
            }
            Glibc.close(fd)
        }
        let box = Unmanaged.passRetained(ThreadBody(body)).toOpaque()
        var handle = pthread_t()
        let rc = pthread_create(&handle, nil, { raw in
            let body = Unmanaged<ThreadBody>.fromOpaque(raw!).takeRetainedValue()
            body.run()
            return nil
        }, box)
        guard rc == 0 else {
            Unmanaged<ThreadBody>.fromOpaque(box).release()
            Glibc.close(fd)
            throw KernelError("starting the drain thread of \(name)", errno: rc)
        }
        thread.withLock { $0 = handle }
    }

    /// The samples drained since the last call, in ring order. Throws if the thread failed.
    func take() throws -> [Sample] {
        if let message = failure.withLock({ $0 }) {
            throw KernelError("draining a ring buffer: \(message)", errno: EIO)
        }
        return samples.withLock { s in defer { s.removeAll(keepingCapacity: true) }; return s }
    }

    /// Drains what is left and stops the thread. Idempotent.
    func stop() {
        stopping.store(true, ordering: .relaxed)
        guard let handle = thread.withLock({ t -> pthread_t? in defer { t = nil }; return t }) else { return }
        pthread_join(handle, nil)
    }

    deinit { stop() }
}

private final class ThreadBody {
    let run: @Sendable () -> Void
    init(_ run: @escaping @Sendable () -> Void) { self.run = run }
}
