import Foundation
import NodeLab

/// Counts the records in records.jsonl as it grows (reads only what was appended).
final class RecordCounter: @unchecked Sendable {
    private let path: String
    private let state = Locked((offset: UInt64(0), total: 0, http: 0))

    init(path: String) { self.path = path }

    /// (records, of which http) so far.
    func count() -> (total: Int, http: Int) {
        state.withLock { s in
            guard let handle = FileHandle(forReadingAtPath: path) else { return (s.total, s.http) }
            defer { try? handle.close() }
            try? handle.seek(toOffset: s.offset)
            let data = (try? handle.readToEnd()) ?? Data()
            // Whole lines only: a line still being written is counted next time.
            guard let lastNewline = data.lastIndex(of: UInt8(ascii: "\n")) else { return (s.total, s.http) }
            let complete = data[data.startIndex...lastNewline]
            for line in complete.split(separator: UInt8(ascii: "\n")) {
                s.total += 1
                if line.range(of: Data(#""kind":"http""#.utf8)) != nil { s.http += 1 }
            }
            s.offset += UInt64(complete.count)
            return (s.total, s.http)
        }
    }
}
