/// Writes a record as one line of JSON (no spaces, fields in record order).
///
/// Bytes are appended to one buffer: building the line as a String, scalar by scalar, was
/// half of the agent's CPU under HTTP load.
public enum JSONLineWriter {
    public static func line(_ record: Record) -> String {
        String(decoding: bytes(record), as: UTF8.self)
    }

    public static func bytes(_ record: Record) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(64 + record.fields.count * 24)
        appendObject(record, to: &out)
        return out
    }

    static func appendObject(_ record: Record, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "{"))
        for (i, (key, value)) in record.fields.enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            appendString(key, to: &out)
            out.append(UInt8(ascii: ":"))
            append(value, to: &out)
        }
        out.append(UInt8(ascii: "}"))
    }

    static func append(_ value: JSONValue, to out: inout [UInt8]) {
        switch value {
        case .int(let v):
            if v < 0 { out.append(UInt8(ascii: "-")) }
            appendDecimal(v.magnitude, to: &out)
        case .uint(let v): appendDecimal(v, to: &out)
        case .bool(let v): out.append(contentsOf: v ? "true".utf8 : "false".utf8)
        case .string(let s): appendString(s, to: &out)
        case .array(let items):
            out.append(UInt8(ascii: "["))
            for (i, item) in items.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                append(item, to: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .object(let record): appendObject(record, to: &out)
        }
    }

    static func appendDecimal(_ value: UInt64, to out: inout [UInt8]) {
        var count = 0
        var rest = value
        repeat { count += 1; rest /= 10 } while rest > 0
        let start = out.count
        out.append(contentsOf: repeatElement(UInt8(ascii: "0"), count: count))
        var v = value
        var i = start + count - 1
        repeat {
            out[i] = UInt8(ascii: "0") + UInt8(v % 10)
            v /= 10
            i -= 1
        } while v > 0
    }

    /// UTF-8 passes through; quotes, backslashes and control characters are escaped.
    static func appendString(_ s: String, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        let plain = s.utf8.withContiguousStorageIfAvailable { bytes in
            guard !bytes.contains(where: needsEscape) else { return false }
            out.append(contentsOf: bytes)
            return true
        }
        if plain != true { appendEscaped(s, to: &out) }
        out.append(UInt8(ascii: "\""))
    }

    private static func needsEscape(_ byte: UInt8) -> Bool {
        byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\")
    }

    private static func appendEscaped(_ s: String, to out: inout [UInt8]) {
        for byte in s.utf8 {
            switch byte {
            case UInt8(ascii: "\""): out.append(contentsOf: #"\""#.utf8)
            case UInt8(ascii: "\\"): out.append(contentsOf: #"\\"#.utf8)
            case UInt8(ascii: "\n"): out.append(contentsOf: #"\n"#.utf8)
            case UInt8(ascii: "\r"): out.append(contentsOf: #"\r"#.utf8)
            case UInt8(ascii: "\t"): out.append(contentsOf: #"\t"#.utf8)
            case 0..<0x20:
                out.append(contentsOf: #"\u00"#.utf8)
                out.append(hexDigit(byte >> 4))
                out.append(hexDigit(byte & 0xF))
            default: out.append(byte)
            }
        }
    }

    private static func hexDigit(_ n: UInt8) -> UInt8 { n < 10 ? UInt8(ascii: "0") + n : UInt8(ascii: "a") + n - 10 }
}
