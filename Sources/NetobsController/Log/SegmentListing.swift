import NetobsWire
import NetobsWireNIO

/// An agent directory's segments from its listing and `stat` alone, no content read; the
/// single-file log of earlier versions (`batches.log`) is renamed into a segment first.
enum SegmentListing {
    static func segments(in dir: String, log: ControllerLog) throws -> [LogIndex.Segment] {
        var names = try DurableFile.list(dir)
        if names.contains(SegmentName.legacy) {
            try migrate(dir, log: log)
            names = try DurableFile.list(dir)
        }
        return names.compactMap { name -> LogIndex.Segment? in
            guard let first = SegmentName.first(of: name), let info = SegmentFS.info(dir + "/" + name) else { return nil }
            return LogIndex.Segment(first: first, bytes: info.bytes, createdNs: info.modifiedNs,
                                    lastWriteNs: info.modifiedNs, tally: nil)
        }.sorted { $0.first < $1.first }
    }

    /// `batches.log` becomes the segment named after its first entry's sequence (read from that
    /// entry's header alone), and its two-field hint a hint for that segment. An empty one is
    /// named after the hint's highest + 1, so the highest stays known.
    static func migrate(_ dir: String, log: ControllerLog) throws {
        let path = dir + "/" + SegmentName.legacy
        let legacyHint = Hint.read(dir + "/state", legacySegment: 0)
        var header: [UInt8] = []
        try SegmentFile(path: path, meter: ReadMeter()).read(at: 0, count: LogEntry.summaryBytes, into: &header)
        var first = (legacyHint?.highest ?? 0) + 1
        if header.count == LogEntry.summaryBytes {
            var r = ByteReader(header[LogEntry.headerBytes...])
            if let sequence = try? r.u64("sequence"), sequence > 0 { first = sequence }
        }
        let segment = dir + "/" + SegmentName.name(first)
        try SegmentFS.rename(path, segment)
        try DurableFile.syncDirectory(of: segment)
        if let legacyHint, legacyHint.segment == 0 {
            try? Hint(segment: first, offset: legacyHint.offset, highest: legacyHint.highest).write(dir + "/state")
        }
        log.info("\(dir): the single-file log of an earlier version is now segment \(SegmentName.name(first))")
    }
}
