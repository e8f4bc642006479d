import Foundation
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
        // Mid-millisecond: the formatter truncates, and the double may fall just below it.
        Date(timeIntervalSince1970: (Double(unixNs / 1_000_000) + 0.5) / 1000).formatted(style)
    }

    private static let style = Date.ISO8601FormatStyle(includingFractionalSeconds: true, timeZone: .gmt)
}
