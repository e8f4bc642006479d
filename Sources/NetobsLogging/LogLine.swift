import Logging

/// One log event rendered as a line (no I/O: the handler writes it).
public enum LogLine {
    public static func render(format: LogFormat, label: String, level: Logger.Level, message: String,
                              metadata: Logger.Metadata, unixNs: UInt64) -> String {
        switch format {
        case .text:
            var line = "\(label): \(level.rawValue): \(message)"
            for (key, value) in metadata.sorted(by: { $0.key < $1.key }) { line += " \(key)=\(value)" }
            return line + "\n"
        case .json:
            var line = #"{"ts":"\#(rfc3339(unixNs))","level":"\#(level.rawValue)","logger":"# + quoted(label) + #","msg":"# + quoted(message)
            for (key, value) in metadata.sorted(by: { $0.key < $1.key }) where !["ts", "level", "logger", "msg"].contains(key) {
                line += "," + quoted(key) + ":" + quoted(value.description)
            }
            return line + "}\n"
        }
    }

    /// A JSON string literal; control characters escaped, so a message from traffic cannot break the line.
    static func quoted(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20 || scalar.value == 0x7f:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }

    /// UTC, milliseconds: `2026-12-03T13:20:01.123Z`.
    static func rfc3339(_ unixNs: UInt64) -> String {
        let seconds = Int64(unixNs / 1_000_000_000)
        let millis = Int(unixNs / 1_000_000 % 1000)
        let (days, secondOfDay) = (seconds / 86_400, Int(seconds % 86_400))
        // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        let year = yoe + era * 400 + (month <= 2 ? 1 : 0)
        func two(_ v: Int) -> String { v < 10 ? "0\(v)" : "\(v)" }
        let ms = millis < 10 ? "00\(millis)" : millis < 100 ? "0\(millis)" : "\(millis)"
        return "\(year)-\(two(Int(month)))-\(two(Int(day)))T\(two(secondOfDay / 3600)):\(two(secondOfDay / 60 % 60)):\(two(secondOfDay % 60)).\(ms)Z"
    }
}
