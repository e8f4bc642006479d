/// The fields of one JSON-lines record that consumers filter, aggregate and print, read in one
/// pass over its bytes. Only top-level string and number fields are kept; arrays, objects and
/// unknown fields are skipped. A line that is not a JSON object gives `nil`.
///
/// The controller reads each published record once into a `RecordView` and hands the same view
/// to every subscriber's filter and to the metrics, so the cost does not grow with subscribers.
public struct RecordView: Sendable, Equatable {
    public var kind = ""
    public var tsNs: UInt64 = 0
    public var node = ""
    public var comm = ""
    public var role = ""
    public var srcIP = ""
    public var srcPort: UInt64 = 0
    public var dstIP = ""
    public var dstPort: UInt64 = 0
    public var srcNamespace = ""
    public var srcPod = ""
    public var dstNamespace = ""
    public var dstPod = ""
    public var dstService = ""
    public var tcpTxBytes: UInt64 = 0
    public var tcpRxBytes: UInt64 = 0
    public var tcpRetransmit: UInt64 = 0
    public var tcpDrop: UInt64 = 0
    public var tcpTLP: UInt64 = 0
    public var tcpRTT: UInt64 = 0
    public var tcpNewState = ""
    public var udpTxBytes: UInt64 = 0
    public var udpRxBytes: UInt64 = 0
    public var httpMethod = ""
    public var httpURI = ""
    public var httpStatusCode: UInt64?
    public var httpDuration: UInt64?
    public var dnsQueryDomain = ""
    public var dnsQueryType = ""
    public var dnsResponseCode = ""
    public var dnsDuration: UInt64?
    /// Records about one pod rather than a flow (e.g. anomalies) name it with these.
    public var namespace = ""
    public var pod = ""

    public init() {}

    public init?(json line: [UInt8]) {
        var scanner = FlatJSONScanner(line)
        guard scanner.begin() else { return nil }
        do {
            while let key = try scanner.nextKey() {
                switch try scanner.value() {
                case .string(let s): setString(key, s)
                case .number(let n): setNumber(key, n)
                case .other: break
                }
            }
        } catch {
            return nil
        }
    }

    private mutating func setString(_ key: String, _ value: String) {
        switch key {
        case "kind": kind = value
        case "node": node = value
        case "comm": comm = value
        case "role": role = value
        case "src_ip": srcIP = value
        case "dst_ip": dstIP = value
        case "src_ns": srcNamespace = value
        case "src_pod": srcPod = value
        case "dst_ns": dstNamespace = value
        case "dst_pod": dstPod = value
        case "dst_service": dstService = value
        case "tcp_new_state": tcpNewState = value
        case "http_request_method": httpMethod = value
        case "http_request_uri": httpURI = value
        case "dns_query_domain": dnsQueryDomain = value
        case "dns_query_type": dnsQueryType = value
        case "dns_response_code": dnsResponseCode = value
        case "namespace": namespace = value
        case "pod": pod = value
        default: break
        }
    }

    private mutating func setNumber(_ key: String, _ text: String) {
        let value = UInt64(text) ?? 0  // negative or fractional counters are not ours: 0
        switch key {
        case "ts_ns": tsNs = value
        case "src_port": srcPort = value
        case "dst_port": dstPort = value
        case "tcp_tx_bytes": tcpTxBytes = value
        case "tcp_rx_bytes": tcpRxBytes = value
        case "tcp_retransmit": tcpRetransmit = value
        case "tcp_drop": tcpDrop = value
        case "tcp_tlp": tcpTLP = value
        case "tcp_rtt": tcpRTT = value
        case "udp_tx_bytes": udpTxBytes = value
        case "udp_rx_bytes": udpRxBytes = value
        case "http_status_code": httpStatusCode = value
        case "http_duration": httpDuration = value
        case "dns_duration": dnsDuration = value
        default: break
        }
    }

    /// "tcp", "udp", "http", "dns", or the kind itself for others ("loss", "anomaly", ...).
    /// Derived kinds keep their protocol: "tcp_latency" is tcp, "http_aggregate" is http.
    public var applicationProtocol: String {
        guard let underscore = kind.firstIndex(of: "_") else { return kind }
        return String(kind[..<underscore])
    }

    /// The transport under the record: HTTP rides on TCP, DNS is counted as UDP (the agent
    /// reports DNS over TCP as "dns" too; it is rare and not told apart here).
    public var transportProtocol: String {
        switch applicationProtocol {
        case "http": "tcp"
        case "dns": "udp"
        default: applicationProtocol
        }
    }
}

/// A forward-only reader of one flat JSON object. Strings are unescaped; numbers are kept as
/// their text; nested arrays and objects are skipped with their contents.
struct FlatJSONScanner {
    enum Value { case string(String), number(String), other }
    struct Malformed: Error {}

    private let bytes: [UInt8]
    private var i = 0
    private var first = true

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    mutating func begin() -> Bool {
        skipSpace()
        guard i < bytes.count, bytes[i] == UInt8(ascii: "{") else { return false }
        i += 1
        return true
    }

    /// The next key, or nil at the closing brace.
    mutating func nextKey() throws -> String? {
        skipSpace()
        guard i < bytes.count else { throw Malformed() }
        if bytes[i] == UInt8(ascii: "}") { return nil }
        if !first {
            guard bytes[i] == UInt8(ascii: ",") else { throw Malformed() }
            i += 1
            skipSpace()
        }
        first = false
        let key = try string()
        skipSpace()
        guard i < bytes.count, bytes[i] == UInt8(ascii: ":") else { throw Malformed() }
        i += 1
        return key
    }

    mutating func value() throws -> Value {
        skipSpace()
        guard i < bytes.count else { throw Malformed() }
        switch bytes[i] {
        case UInt8(ascii: "\""):
            return .string(try string())
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            let start = i
            while i < bytes.count, Self.isNumberByte(bytes[i]) { i += 1 }
            return .number(String(decoding: bytes[start..<i], as: UTF8.self))
        case UInt8(ascii: "["), UInt8(ascii: "{"):
            try skipNested()
            return .other
        default:
            // true, false, null
            let start = i
            while i < bytes.count, bytes[i] >= UInt8(ascii: "a"), bytes[i] <= UInt8(ascii: "z") { i += 1 }
            guard i > start else { throw Malformed() }
            return .other
        }
    }

    private static func isNumberByte(_ b: UInt8) -> Bool {
        (b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9")) || b == UInt8(ascii: "-") || b == UInt8(ascii: "+")
            || b == UInt8(ascii: ".") || b == UInt8(ascii: "e") || b == UInt8(ascii: "E")
    }

    private mutating func skipSpace() {
        while i < bytes.count, bytes[i] == 0x20 || bytes[i] == 0x09 || bytes[i] == 0x0A || bytes[i] == 0x0D { i += 1 }
    }

    /// A string at `i` (which is its opening quote), unescaped. The fast path copies the bytes
    /// between the quotes when there is no escape.
    private mutating func string() throws -> String {
        guard i < bytes.count, bytes[i] == UInt8(ascii: "\"") else { throw Malformed() }
        i += 1
        let start = i
        while i < bytes.count, bytes[i] != UInt8(ascii: "\""), bytes[i] != UInt8(ascii: "\\") { i += 1 }
        guard i < bytes.count else { throw Malformed() }
        if bytes[i] == UInt8(ascii: "\"") {
            defer { i += 1 }
            return String(decoding: bytes[start..<i], as: UTF8.self)
        }
        var out = Array(bytes[start..<i])
        while i < bytes.count {
            let b = bytes[i]
            if b == UInt8(ascii: "\"") {
                i += 1
                return String(decoding: out, as: UTF8.self)
            }
            if b != UInt8(ascii: "\\") {
                out.append(b)
                i += 1
                continue
            }
            guard i + 1 < bytes.count else { throw Malformed() }
            let e = bytes[i + 1]
            i += 2
            switch e {
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "u"):
                guard i + 4 <= bytes.count,
                      let code = UInt32(String(decoding: bytes[i..<(i + 4)], as: UTF8.self), radix: 16) else { throw Malformed() }
                i += 4
                // Surrogates (outside the BMP) become U+FFFD: records never carry them.
                out.append(contentsOf: Array(String(Unicode.Scalar(code).map(Character.init) ?? "\u{FFFD}").utf8))
            default: out.append(e)  // \" \\ \/
            }
        }
        throw Malformed()
    }

    /// Skips an array or object, strings inside included.
    private mutating func skipNested() throws {
        var depth = 0
        while i < bytes.count {
            switch bytes[i] {
            case UInt8(ascii: "["), UInt8(ascii: "{"): depth += 1; i += 1
            case UInt8(ascii: "]"), UInt8(ascii: "}"):
                depth -= 1
                i += 1
                if depth == 0 { return }
            case UInt8(ascii: "\""): _ = try string()
            default: i += 1
            }
        }
        throw Malformed()
    }
}
