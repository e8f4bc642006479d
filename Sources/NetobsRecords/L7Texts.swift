import CNetobsLayout

/// Swift view of `struct netobs_l7_text` (bpf/netobs_l7_layout.h): a URI, or a DNS query name
/// in wire form, as the kernel kept it under its id.
public struct L7Text: Sendable, Equatable {
    public var kind: L7Event.Kind
    public var bytes: [UInt8]
    public var truncated: Bool

    public init(kind: L7Event.Kind, bytes: [UInt8], truncated: Bool = false) {
        self.kind = kind
        self.bytes = bytes
        self.truncated = truncated
    }

    public init?(raw: UnsafeRawBufferPointer) {
        guard raw.count >= MemoryLayout<netobs_l7_text>.size else { return nil }
        let t = raw.loadUnaligned(as: netobs_l7_text.self)
        guard let kind = L7Event.Kind(rawValue: t.kind) else { return nil }
        let used = Int(min(t.len, UInt16(NETOBS_L7_TEXT_LEN)))
        self.init(kind: kind, bytes: withUnsafeBytes(of: t.text) { Array($0.prefix(used)) }, truncated: t.truncated != 0)
    }

    /// As records show it: the URI, or the name in dotted form.
    public var display: String {
        kind == .http ? String(decoding: bytes, as: UTF8.self) : L7Names.dnsName(wire: bytes)
    }
}

/// The texts of URI and name ids the agent has read from the kernel (`netobs_l7_texts`, an LRU
/// map that may forget them). An id is read once; the catalog forgets ids unused for
/// `keepIntervals` flushes.
public struct L7TextCatalog: Sendable {
    /// Shown for an id whose text the kernel no longer had (counted as `l7_text_unknown`).
    public static let unknown = "<unknown>"

    private var texts: [UInt64: (text: String, truncated: Bool, usedInterval: UInt64)] = [:]
    private var interval: UInt64 = 0
    public let keepIntervals: UInt64
    /// Ids that could not be resolved, since start.
    public private(set) var unknownTotal: UInt64 = 0

    public init(keepIntervals: UInt64 = 600) {
        self.keepIntervals = keepIntervals
    }

    public var count: Int { texts.count }

    /// The text of `id` as records show it and whether it was cut, asking `read` (the kernel
    /// map) when the id is new.
    public mutating func text(_ id: UInt64, read: (UInt64) -> L7Text?) -> (text: String, truncated: Bool) {
        if let known = texts[id] {
            if known.usedInterval != interval { texts[id]?.usedInterval = interval }
            return (known.text, known.truncated)
        }
        guard let text = read(id) else {
            unknownTotal += 1
            return (Self.unknown, false)
        }
        texts[id] = (text.display, text.truncated, interval)
        return (text.display, text.truncated)
    }

    /// Ends a flush interval: texts unused for `keepIntervals` are forgotten.
    public mutating func endInterval() {
        interval += 1
        guard interval % 64 == 0 else { return } // a sweep now and then is enough
        texts = texts.filter { interval - $0.value.usedInterval <= keepIntervals }
    }
}
