/// Encodings shared by several messages: lists, string sets, key-value options, fixed-size byte fields.

extension ByteWriter {
    public mutating func list<T>(_ items: [T], limit: Int, _ field: String,
                                 _ element: (T, inout ByteWriter) throws(WireError) -> Void) throws(WireError) {
        try count(items.count, limit: limit, field: field)
        for item in items { try element(item, &self) }
    }

    /// A set is written sorted by UTF-8 bytes so that it has exactly one encoding.
    public mutating func stringSet(_ set: Set<String>, countLimit: Int, lengthLimit: Int,
                                   _ field: String) throws(WireError) {
        let sorted = set.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        try list(sorted, limit: countLimit, field) { s, w throws(WireError) in
            try w.string(s, limit: lengthLimit, field: field)
        }
    }

    /// A fixed-size field (digest, signature): no prefix, so the size is checked here.
    public mutating func fixed(_ v: [UInt8], size: Int, _ field: String) throws(WireError) {
        guard v.count == size else { throw .invalidValue(field: field, value: UInt64(v.count)) }
        raw(v)
    }

    public mutating func options(_ kvs: [KeyValue], _ field: String) throws(WireError) {
        try list(kvs, limit: Limits.options, field) { kv, w throws(WireError) in
            try w.string(kv.key, limit: Limits.label, field: field + ".key")
            try w.bytes(kv.value, limit: Limits.optionValue, field: field + ".value")
        }
    }

    /// Records of a FlowBatch or StreamBatch.
    public mutating func records(_ records: [[UInt8]], _ field: String) throws(WireError) {
        try list(records, limit: Limits.records, field) { rec, w throws(WireError) in
            try w.bytes(rec, limit: Limits.record, field: field)
        }
    }
}

extension ByteReader {
    /// Reads a counted list. `minElementSize` is the smallest encoding of one element; it bounds the
    /// count by the bytes actually present before any capacity is reserved.
    public mutating func list<T>(limit: Int, minElementSize: Int, _ field: String,
                                 _ element: (inout ByteReader) throws(WireError) -> T) throws(WireError) -> [T] {
        let n = try count(limit: limit, minElementSize: minElementSize, field)
        var items: [T] = []
        items.reserveCapacity(n)
        for _ in 0..<n { items.append(try element(&self)) }
        return items
    }

    public mutating func stringSet(countLimit: Int, lengthLimit: Int, _ field: String) throws(WireError) -> Set<String> {
        var previous: String?
        let items = try list(limit: countLimit, minElementSize: 1, field) { r throws(WireError) -> String in
            let s = try r.string(limit: lengthLimit, field)
            if let p = previous, !p.utf8.lexicographicallyPrecedes(s.utf8) { throw .unsortedSet(field: field) }
            previous = s
            return s
        }
        return Set(items)
    }

    public mutating func options(_ field: String) throws(WireError) -> [KeyValue] {
        try list(limit: Limits.options, minElementSize: 2, field) { r throws(WireError) in
            KeyValue(key: try r.string(limit: Limits.label, field + ".key"),
                     value: try r.bytes(limit: Limits.optionValue, field + ".value"))
        }
    }

    public mutating func records(_ field: String) throws(WireError) -> [[UInt8]] {
        try list(limit: Limits.records, minElementSize: 1, field) { r throws(WireError) in
            try r.bytes(limit: Limits.record, field)
        }
    }
}

/// An extensible option: a short key and an opaque value. Receivers ignore keys they do not know.
public struct KeyValue: Sendable, Hashable {
    public var key: String
    public var value: [UInt8]

    public init(key: String, value: [UInt8]) {
        self.key = key
        self.value = value
    }

    public init(key: String, text: String) { self.init(key: key, value: Array(text.utf8)) }
}

/// Rejects a value outside its domain, on the way out as well as on the way in.
@inline(__always)
func check(_ ok: Bool, _ field: String, _ value: some BinaryInteger) throws(WireError) {
    guard ok else { throw .invalidValue(field: field, value: UInt64(truncatingIfNeeded: value)) }
}
