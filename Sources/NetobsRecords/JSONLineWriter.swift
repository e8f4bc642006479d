/// Writes a record as one line of JSON (no spaces, fields in record order).
public enum JSONLineWriter {
    public static func line(_ record: Record) -> String {
        var out = "{"
        for (i, (key, value)) in record.fields.enumerated() {
            if i > 0 { out += "," }
            appendString(key, to: &out)
            out += ":"
            append(value, to: &out)
        }
        out += "}"
        return out
    }

    static func append(_ value: JSONValue, to out: inout String) {
        switch value {
        case .int(let v): out += String(v)
        case .uint(let v): out += String(v)
        case .bool(let v): out += v ? "true" : "false"
        case .string(let s): appendString(s, to: &out)
        case .array(let items):
            out += "["
            for (i, item) in items.enumerated() {
                if i > 0 { out += "," }
                append(item, to: &out)
            }
            out += "]"
        }
    }

    static func appendString(_ s: String, to out: inout String) {
        out += "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        out += "\""
    }
}
