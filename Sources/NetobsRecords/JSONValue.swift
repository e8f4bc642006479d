/// A JSON value of a record field. Records keep their fields in order so that every line
/// reads the same way (kind and context first, then metrics).
public enum JSONValue: Sendable, Equatable {
    case int(Int64)
    case uint(UInt64)
    case string(String)
    case bool(Bool)
    case array([JSONValue])
    /// A nested object (reports such as `--features`; flow records stay flat).
    case object(Record)
}

public struct Record: Sendable, Equatable {
    public private(set) var fields: [(String, JSONValue)] = []

    public init(kind: String) { fields.append(("kind", .string(kind))) }

    /// An object with no fields yet (not a flow record: no kind).
    public init() {}

    public mutating func set(_ key: String, _ value: JSONValue) {
        if let i = index(of: key) {
            fields[i].1 = value
        } else {
            fields.append((key, value))
        }
    }

    /// Like `set`, but a new field goes right after `anchor` (at the end without it), so that
    /// fields added later still read in their place.
    public mutating func set(_ key: String, _ value: JSONValue, after anchor: String) {
        if let i = index(of: key) {
            fields[i].1 = value
        } else if let a = index(of: anchor) {
            fields.insert((key, value), at: a + 1)
        } else {
            fields.append((key, value))
        }
    }

    /// Drops the fields named in `keys` (metrics this host cannot give are absent, not 0).
    public mutating func remove(_ keys: Set<String>) {
        guard !keys.isEmpty else { return }
        fields.removeAll { keys.contains($0.0) }
    }

    public subscript(key: String) -> JSONValue? {
        index(of: key).map { fields[$0].1 }
    }

    /// Lengths first: a record is built by 20-odd `set`s, each looking through the fields so
    /// far, and comparing whole strings there was a tenth of the agent's CPU.
    private func index(of key: String) -> Int? {
        let length = key.utf8.count
        return fields.firstIndex { $0.0.utf8.count == length && $0.0 == key }
    }

    public var kind: String {
        if case .string(let kind)? = self["kind"] { return kind }
        return ""
    }

    public static func == (a: Record, b: Record) -> Bool {
        a.fields.elementsEqual(b.fields) { $0.0 == $1.0 && $0.1 == $1.1 }
    }
}
