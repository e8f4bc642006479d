import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// How full a BPF ring buffer is, read without consuming: the map's first two pages hold the
/// consumer and producer positions (mapped read-only here), and their difference is what waits
/// to be read. Read from any thread; positions are read with no lock, so a value may be one
/// sample stale, which a gauge tolerates.
public final class RingFill: @unchecked Sendable {
    private let pages: UnsafeMutableRawPointer
    private let pageSize: Int
    /// Bytes of ring data (the map's max_entries).
    public let size: Int

    public init(map: BPFMap) throws {
        pageSize = Int(sysconf(Int32(_SC_PAGESIZE)))
        size = map.maxEntries
        guard let mapped = mmap(nil, 2 * pageSize, PROT_READ, MAP_SHARED, map.fd, 0), mapped != MAP_FAILED else {
            throw KernelError("mapping the positions of ring buffer \(map.name)", errno: errno)
        }
        pages = mapped
    }

    deinit { munmap(pages, 2 * pageSize) }

    /// The share of the ring waiting to be read, 0 … 1.
    public var fraction: Double {
        let consumer = pages.load(as: UInt64.self)
        let producer = pages.load(fromByteOffset: pageSize, as: UInt64.self)
        return Self.fraction(producer: producer, consumer: consumer, size: size)
    }

    public static func fraction(producer: UInt64, consumer: UInt64, size: Int) -> Double {
        guard size > 0, producer > consumer else { return 0 }
        return min(1, Double(producer - consumer) / Double(size))
    }
}

/// The highest fill seen since the last `take()`, for a gauge per flush interval.
public final class RingFillPeak: Sendable {
    private let fill: RingFill
    private let peakPPM = Atomic<UInt32>(0)

    public init(map: BPFMap) throws { fill = try RingFill(map: map) }

    /// Looks now (call before each consume).
    public func sample() {
        let ppm = UInt32(fill.fraction * 1_000_000)
        var seen = peakPPM.load(ordering: .relaxed)
        while ppm > seen {
            let (exchanged, current) = peakPPM.compareExchange(expected: seen, desired: ppm, ordering: .relaxed)
            if exchanged { break }
            seen = current
        }
    }

    /// The peak since the last call (0 … 1), and a new period starts.
    public func take() -> Double { Double(peakPPM.exchange(0, ordering: .relaxed)) / 1_000_000 }
}
