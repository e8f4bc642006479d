/// A JSON value of a record field. Records keep their fields in order so that every line
/// reads the same way (kind and context first, then metrics).
public enum JSONValue: Sendable, Equatable {
    case int(Int64)
    case uint(UInt64)
    case string(String)
    case bool(Bool)
    case array([JSONValue])
}

public struct Record: Sendable, Equatable {
    public private(set) var fields: [(String, JSONValue)] = []

    public init(kind: String) { fields.append(("kind", .string(kind))) }

    public mutating func set(_ key: String, _ value: JSONValue) {
        if let i = fields.firstIndex(where: { $0.0 == key }) {
            fields[i].1 = value
        } else {
            fields.append((key, value))
        }
    }

    /// Like `set`, but a new field goes right after `anchor` (at the end without it), so that
    /// fields added later still read in their place.
    public mutating func set(_ key: String, _ value: JSONValue, after anchor: String) {
        if let i = fields.firstIndex(where: { $0.0 == key }) {
            fields[i].1 = value
        } else if let a = fields.firstIndex(where: { $0.0 == anchor }) {
            fields.insert((key, value), at: a + 1)
        } else {
            fields.append((key, value))
        }
    }

    public subscript(key: String) -> JSONValue? {
        fields.first { $0.0 == key }?.1
    }

    public var kind: String {
        if case .string(let kind)? = self["kind"] { return kind }
        return ""
    }

    public static func == (a: Record, b: Record) -> Bool {
        a.fields.elementsEqual(b.fields) { $0.0 == $1.0 && $0.1 == $1.1 }
    }
}
