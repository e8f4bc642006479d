import NetobsWireNIO
#if canImport(Glibc)
import Glibc
#endif

/// An agent's stored entries in order, read one segment at a time through a bounded buffer (see
/// `SegmentScanner`), however long the log. A segment that retention dropped after the reader
/// was made is skipped; the active segment is read up to its last complete entry.
public struct LogReader {
    private let paths: [String]
    private let meter: ReadMeter
    private var nextPath = 0
    private var scanner: SegmentScanner?

    init(paths: [String], meter: ReadMeter) {
        self.paths = paths
        self.meter = meter
    }

    /// The next entry, or nil after the last.
    public mutating func next() throws -> LogEntry? {
        while true {
            if scanner != nil {
                // Through `!`, in place: a copy of the scanner would copy its buffer.
                if let entry = try scanner!.next() { return entry }
                scanner = nil
            }
            guard nextPath < paths.count else { return nil }
            let path = paths[nextPath]
            nextPath += 1
            do {
                scanner = SegmentScanner(try SegmentFile(path: path, meter: meter))
            } catch let failure as DurableFile.Failure where failure.code == ENOENT {
                continue  // dropped by retention since
            }
        }
    }
}
