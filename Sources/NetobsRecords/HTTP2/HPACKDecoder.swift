/// An HPACK decoder (RFC 7541): header blocks to header lists, with the static table, a
/// dynamic table of its own (one per direction of a connection) and Huffman-coded strings.
/// Malformed input throws; a decoder that threw is out of step with its peer's encoder.
public struct HPACKDecoder: Sendable {
    public struct Invalid: Error, Equatable {
        public let reason: String
    }

    public struct Header: Sendable, Equatable {
        public var name: String
        public var value: String
        public init(_ name: String, _ value: String) {
            self.name = name
            self.value = value
        }
    }

    /// Newest first (index 62 is the first).
    private var dynamic: [Header] = []
    public private(set) var dynamicSize = 0
    public private(set) var maxDynamicSize: Int
    /// The largest size a table size update may set (SETTINGS_HEADER_TABLE_SIZE); updates
    /// beyond are refused. Generous: the observer does not know the peers' settings.
    public var sizeLimit: Int

    public init(maxDynamicSize: Int = 4096, sizeLimit: Int = 1 << 16) {
        self.maxDynamicSize = maxDynamicSize
        self.sizeLimit = sizeLimit
    }

    /// The dynamic table, newest first (for tests).
    public var dynamicEntries: [Header] { dynamic }

    public mutating func decode(_ block: [UInt8]) throws(Invalid) -> [Header] {
        var headers: [Header] = []
        var i = 0
        while i < block.count {
            let byte = block[i]
            if byte & 0x80 != 0 { // indexed
                let index = try integer(block, &i, prefix: 7)
                headers.append(try entry(index))
            } else if byte & 0x40 != 0 { // literal, incremental indexing
                let header = try literal(block, &i, prefix: 6)
                headers.append(header)
                insert(header)
            } else if byte & 0x20 != 0 { // dynamic table size update
                let size = try integer(block, &i, prefix: 5)
                guard size <= sizeLimit else { throw Invalid(reason: "table size update \(size) over \(sizeLimit)") }
                maxDynamicSize = size
                evict(to: size)
            } else { // literal without indexing (0000) or never indexed (0001)
                headers.append(try literal(block, &i, prefix: 4))
            }
        }
        return headers
    }

    private func entry(_ index: Int) throws(Invalid) -> Header {
        if index >= 1 && index <= HPACKStaticTable.entries.count {
            let e = HPACKStaticTable.entries[index - 1]
            return Header(e.name, e.value)
        }
        let d = index - HPACKStaticTable.entries.count - 1
        guard index > 0, d < dynamic.count else { throw Invalid(reason: "index \(index) not in the tables") }
        return dynamic[d]
    }

    private func literal(_ b: [UInt8], _ i: inout Int, prefix: Int) throws(Invalid) -> Header {
        let index = try integer(b, &i, prefix: prefix)
        let name = index == 0 ? try string(b, &i) : try entry(index).name
        return Header(name, try string(b, &i))
    }

    private mutating func insert(_ h: Header) {
        let size = h.name.utf8.count + h.value.utf8.count + 32
        guard size <= maxDynamicSize else { // larger than the table: it empties (RFC 7541 4.4)
            dynamic.removeAll()
            dynamicSize = 0
            return
        }
        evict(to: maxDynamicSize - size)
        dynamic.insert(h, at: 0)
        dynamicSize += size
    }

    private mutating func evict(to size: Int) {
        while dynamicSize > size, let last = dynamic.popLast() {
            dynamicSize -= last.name.utf8.count + last.value.utf8.count + 32
        }
    }

    /// An integer with an N-bit prefix (RFC 7541 5.1).
    func integer(_ b: [UInt8], _ i: inout Int, prefix: Int) throws(Invalid) -> Int {
        guard i < b.count else { throw Invalid(reason: "integer past the block") }
        let mask = (1 << prefix) - 1
        var value = Int(b[i]) & mask
        i += 1
        guard value == mask else { return value }
        var shift = 0
        while true {
            guard i < b.count, shift <= 28 else { throw Invalid(reason: "integer past the block or too large") }
            let byte = b[i]
            i += 1
            value += Int(byte & 0x7f) << shift
            shift += 7
            if byte & 0x80 == 0 { return value }
        }
    }

    /// A string literal, Huffman-coded or not (RFC 7541 5.2).
    func string(_ b: [UInt8], _ i: inout Int) throws(Invalid) -> String {
        guard i < b.count else { throw Invalid(reason: "string past the block") }
        let huffman = b[i] & 0x80 != 0
        let length = try integer(b, &i, prefix: 7)
        guard length <= b.count - i else { throw Invalid(reason: "string of \(length) bytes past the block") }
        let raw = b[i..<(i + length)]
        i += length
        if !huffman { return String(decoding: raw, as: UTF8.self) }
        do {
            return String(decoding: try HPACKHuffman.decode(raw), as: UTF8.self)
        } catch {
            throw Invalid(reason: "bad Huffman string")
        }
    }
}
