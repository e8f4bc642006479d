import NetobsRecords

/// Turns received records into output lines (pure, so tests can check it). Records the filter
/// does not select are left out: an older controller may send more than was asked for.
struct TailPrinter: Sendable {
    let format: ListingFormat
    let table: RecordTable
    let filter: RecordFilter

    init(format: ListingFormat, colour: Bool, timeFormat: TimeFormat = .time, filter: RecordFilter = RecordFilter(),
         now: @escaping @Sendable () -> UInt64 = TimeFormat.nowNs) {
        self.format = format
        self.filter = filter
        table = RecordTable(colour: colour, timeFormat: timeFormat, now: now)
    }

    var header: String? { format == .table ? table.header : nil }

    func text(_ records: [[UInt8]]) -> String {
        var text = ""
        for record in records {
            let view = format == .table ? RecordView(json: record)
                : filter.selectsAll ? nil : RecordView(filter.fieldsRead, of: record)
            if !filter.selectsAll {
                // As the controller does: a line that is not a JSON object passes no filter.
                guard let view, filter.matches(view) else { continue }
            }
            switch format {
            case .json, .jsonl:
                text += String(decoding: record, as: UTF8.self)
            case .table:
                if let view {
                    text += table.line(view)
                } else {
                    text += table.unparsed(String(decoding: record, as: UTF8.self))
                }
            }
            text += "\n"
        }
        return text
    }
}
