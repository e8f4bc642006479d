/// A JSON document as native Swift values: String, Int (UInt64 past Int.max, Double with a
/// fraction or exponent), Bool, [Any], [String: Any], and `NativeJSON.Null`. For readers that
/// look fields up by name: no Foundation objects are made and bridged, which made
/// JSONSerialization most of the controller's live-analysis cost.
public enum NativeJSON {
    public struct Null: Sendable, Equatable {}

    public enum Failure: Error, Equatable { case malformed, notAnObject }

    /// Nesting deeper than this is refused rather than followed (records are flat).
    static let maxDepth = 32

    public static func object(_ bytes: [UInt8]) throws(Failure) -> [String: Any] {
        var scanner = FlatJSONScanner(bytes)
        let value: Any
        do {
            value = try scanner.nativeValue(depth: 0)
            scanner.skipSpace()
            guard scanner.i == bytes.count else { throw FlatJSONScanner.Malformed() }
        } catch {
            throw .malformed
        }
        guard let object = value as? [String: Any] else { throw .notAnObject }
        return object
    }
}

extension FlatJSONScanner {
    mutating func nativeValue(depth: Int) throws -> Any {
        guard depth <= NativeJSON.maxDepth else { throw Malformed() }
        skipSpace()
        guard i < bytes.count else { throw Malformed() }
        switch bytes[i] {
        case UInt8(ascii: "\""): return try string()
        case UInt8(ascii: "{"): return try nativeObject(depth: depth)
        case UInt8(ascii: "["): return try nativeArray(depth: depth)
        case UInt8(ascii: "t"): try literal("true"); return true
        case UInt8(ascii: "f"): try literal("false"); return false
        case UInt8(ascii: "n"): try literal("null"); return NativeJSON.Null()
        default: return try number()
        }
    }

    private mutating func nativeObject(depth: Int) throws -> [String: Any] {
        i += 1
        var object: [String: Any] = [:]
        skipSpace()
        if i < bytes.count, bytes[i] == UInt8(ascii: "}") { i += 1; return object }
        while true {
            skipSpace()
            let key = try string()
            skipSpace()
            guard i < bytes.count, bytes[i] == UInt8(ascii: ":") else { throw Malformed() }
            i += 1
            object[key] = try nativeValue(depth: depth + 1)
            if try endOfList(closing: "}") { return object }
        }
    }

    private mutating func nativeArray(depth: Int) throws -> [Any] {
        i += 1
        var array: [Any] = []
        skipSpace()
        if i < bytes.count, bytes[i] == UInt8(ascii: "]") { i += 1; return array }
        while true {
            array.append(try nativeValue(depth: depth + 1))
            if try endOfList(closing: "]") { return array }
        }
    }

    /// After a member: true at the closing bracket, false after a comma.
    private mutating func endOfList(closing: Unicode.Scalar) throws -> Bool {
        skipSpace()
        guard i < bytes.count else { throw Malformed() }
        let b = bytes[i]
        i += 1
        if b == UInt8(ascii: ",") { return false }
        if b == UInt8(ascii: closing) { return true }
        throw Malformed()
    }

    private mutating func literal(_ word: String) throws {
        for expected in word.utf8 {
            guard i < bytes.count, bytes[i] == expected else { throw Malformed() }
            i += 1
        }
    }

    private mutating func number() throws -> Any {
        let start = i
        while i < bytes.count, Self.isNumberByte(bytes[i]) { i += 1 }
        let text = String(decoding: bytes[start..<i], as: UTF8.self)
        if let v = Int(text) { return v }
        if let v = UInt64(text) { return v }
        guard let v = Double(text), v.isFinite else { throw Malformed() }
        return v
    }
}
