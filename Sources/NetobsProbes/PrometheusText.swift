/// The Prometheus text exposition format (version 0.0.4): HELP and TYPE once per family, then
/// its samples; label values escaped.
public struct PrometheusText: Sendable {
    public init() {}

    public static let contentType = "text/plain; version=0.0.4; charset=utf-8"

    public private(set) var text = ""

    public mutating func family(_ name: String, _ type: String, _ help: String) {
        text += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n"
    }

    public mutating func sample(_ name: String, _ labels: KeyValuePairs<String, String> = [:], _ value: UInt64) {
        sample(name, Array(labels), String(value))
    }

    public mutating func sample(_ name: String, _ labels: [(String, String)], _ value: String) {
        text += name
        if !labels.isEmpty {
            text += "{"
            for (i, (key, v)) in labels.enumerated() {
                if i > 0 { text += "," }
                text += key + "=\"" + Self.escape(v) + "\""
            }
            text += "}"
        }
        text += " " + value + "\n"
    }

    public static func escape(_ value: String) -> String {
        guard value.contains(where: { $0 == "\\" || $0 == "\"" || $0 == "\n" }) else { return value }
        var out = ""
        for c in value {
            switch c {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "\n": out += "\\n"
            default: out.append(c)
            }
        }
        return out
    }

    public static func number(_ v: Double) -> String {
        v == v.rounded() && abs(v) < 1e15 ? String(Int64(v)) : String(v)
    }
}
