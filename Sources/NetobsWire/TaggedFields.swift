/// The optional-field trailer that ends every payload and every nested struct:
///
///     count:uvarint, then `count` times { tag:uvarint, length:uvarint, value:length bytes }
///
/// Tags are strictly ascending. A receiver decodes the tags it knows and skips the others, so a
/// sender can add optional fields without a new message version (the idea of Kafka's tagged fields).
public typealias TaggedField = (tag: UInt32, value: [UInt8])

extension ByteWriter {
    /// Writes the trailer; `fields` must already be in ascending tag order.
    public mutating func taggedFields(_ fields: [TaggedField], _ field: String) throws(WireError) {
        try count(fields.count, limit: Limits.taggedFields, field: field)
        var previous: UInt32?
        for f in fields {
            if let p = previous, f.tag <= p { throw .taggedFieldOrder(previous: p, tag: f.tag) }
            previous = f.tag
            uvarint(f.tag)
            try bytes(f.value, limit: Int(UInt32.max), field: field)
        }
    }

    /// Convenience for the common case of no optional fields.
    public mutating func noTaggedFields() { u8(0) }
}

extension ByteReader {
    /// Reads the trailer. `known` is called with each tag and a reader over exactly its value; it
    /// returns false for a tag it does not know, and that value is skipped. A known value must be
    /// consumed exactly.
    public mutating func taggedFields(
        _ field: String,
        _ known: (UInt32, inout ByteReader) throws(WireError) -> Bool = { _, _ in false }
    ) throws(WireError) {
        // Smallest field: tag (1) + zero length (1).
        let n = try count(limit: Limits.taggedFields, minElementSize: 2, field)
        var previous: UInt32?
        for _ in 0..<n {
            let tag = try uvarint(field)
            if let p = previous, tag <= p { throw .taggedFieldOrder(previous: p, tag: tag) }
            previous = tag
            let len = try length(limit: Int(UInt32.max), field)
            var value = try subReader(len, field)
            if try known(tag, &value) { try value.expectEnd(field) }
        }
    }
}
