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
    /// `kind/name` of the workload that owns each end's pod ("deployment/carts"), from the join.
    public var srcWorkload = ""
    public var dstWorkload = ""
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
    /// `http_aggregate`/`dns_aggregate`: the exchanges the record counts, and their total time;
    /// `loss` records: how many were lost in the interval.
    public var count: UInt64?
    public var httpDurationSum: UInt64?
    public var dnsDurationSum: UInt64?
    /// Why an `http`/`dns` record was sent ("error", "slow", "sample"): an exemplar, whose
    /// exchange is also counted in an aggregate. Empty for records that stand alone.
    public var exemplar = ""
    /// `loss` records: what was lost.
    public var lossReason = ""
    public var lossCount: UInt64 { count ?? 0 }
    /// Records about one pod rather than a flow (e.g. anomalies) name it with these.
    public var namespace = ""
    public var pod = ""

    public init() {}

    public init?(json line: [UInt8]) { self.init(line, only: nil) }

    /// The groups of fields `RecordFilter`s read.
    public struct FilterFields: OptionSet, Sendable, Hashable {
        public let rawValue: UInt16
        public init(rawValue: UInt16) { self.rawValue = rawValue }
        public static let kind = FilterFields(rawValue: 1)
        /// `src_ns`, `dst_ns`, `namespace`.
        public static let namespaces = FilterFields(rawValue: 2)
        /// `src_pod`, `dst_pod`, `pod`.
        public static let pods = FilterFields(rawValue: 4)
        public static let service = FilterFields(rawValue: 8)
        /// HTTP status and DNS rcode.
        public static let status = FilterFields(rawValue: 16)
        /// `src_ip`, `dst_ip`, `src_port`, `dst_port`.
        public static let addresses = FilterFields(rawValue: 32)
        public static let node = FilterFields(rawValue: 64)
        /// `src_workload`, `dst_workload`.
        public static let workloads = FilterFields(rawValue: 128)
        /// HTTP method and URI.
        public static let http = FilterFields(rawValue: 256)
        /// `ts_ns`.
        public static let time = FilterFields(rawValue: 512)
        public static let all: FilterFields = [.kind, .namespaces, .pods, .service, .status, .addresses, .node, .workloads,
                                               .http, .time]
    }

    /// Only the fields of `fields` (what the filters at hand read); the others stay empty. For
    /// when nothing else needs the view: the strings of the other fields are never made.
    public init?(_ fields: FilterFields = .all, of line: [UInt8]) { self.init(line, only: fields) }

    private init?(_ line: [UInt8], only fields: FilterFields?) {
        var scanner = FlatJSONScanner(line)
        guard scanner.begin() else { return nil }
        do {
            while let key = try scanner.nextKey() {
                // Fields no consumer reads are skipped without making strings of their values.
                guard let field = Field.lookup(line, key), fields.map({ field.read(by: $0) }) ?? true else {
                    try scanner.skipValue()
                    continue
                }
                switch try scanner.value() {
                case .string(let s): setString(field, s)
                case .number(let n): setNumber(field, n)
                case .other: break
                }
            }
        } catch {
            return nil
        }
    }

    private enum Field: String, CaseIterable {
        case kind, node, comm, role, namespace, pod
        case tsNs = "ts_ns", srcIP = "src_ip", srcPort = "src_port", dstIP = "dst_ip", dstPort = "dst_port"
        case srcNs = "src_ns", srcPod = "src_pod", dstNs = "dst_ns", dstPod = "dst_pod", dstService = "dst_service"
        case srcWorkload = "src_workload", dstWorkload = "dst_workload", lossReason = "reason"
        case tcpTx = "tcp_tx_bytes", tcpRx = "tcp_rx_bytes", tcpRetransmit = "tcp_retransmit", tcpDrop = "tcp_drop"
        case tcpTLP = "tcp_tlp", tcpRTT = "tcp_rtt", tcpNewState = "tcp_new_state"
        case udpTx = "udp_tx_bytes", udpRx = "udp_rx_bytes"
        case httpMethod = "http_request_method", httpURI = "http_request_uri", httpStatus = "http_status_code"
        case httpDuration = "http_duration"
        case dnsDomain = "dns_query_domain", dnsType = "dns_query_type", dnsRcode = "dns_response_code"
        case dnsDuration = "dns_duration"
        case count, exemplar
        case httpDurationSum = "http_duration_sum", dnsDurationSum = "dns_duration_sum"

        func read(by fields: FilterFields) -> Bool {
            switch self {
            case .kind: fields.contains(.kind)
            case .namespace, .srcNs, .dstNs: fields.contains(.namespaces)
            case .pod, .srcPod, .dstPod: fields.contains(.pods)
            case .dstService: fields.contains(.service)
            case .httpStatus, .dnsRcode: fields.contains(.status)
            case .srcIP, .dstIP, .srcPort, .dstPort: fields.contains(.addresses)
            case .node: fields.contains(.node)
            case .srcWorkload, .dstWorkload: fields.contains(.workloads)
            case .httpMethod, .httpURI: fields.contains(.http)
            case .tsNs: fields.contains(.time)
            default: false
            }
        }

        /// Fields by key length, with their key bytes: a key is compared only with the few of
        /// its length, without making a string of it or hashing it.
        private static let byLength: [[(key: [UInt8], field: Field)]] = {
            var table = [[(key: [UInt8], field: Field)]](repeating: [], count: 32)
            for f in allCases { table[f.rawValue.utf8.count].append((Array(f.rawValue.utf8), f)) }
            return table
        }()

        static func lookup(_ line: [UInt8], _ key: Range<Int>) -> Field? {
            guard key.count < byLength.count else { return nil }
            candidates: for (bytes, field) in byLength[key.count] {
                var j = key.lowerBound
                for b in bytes {
                    if line[j] != b { continue candidates }
                    j += 1
                }
                return field
            }
            return nil
        }
    }

    private mutating func setString(_ field: Field, _ value: String) {
        switch field {
        case .kind: kind = value
        case .node: node = value
        case .comm: comm = value
        case .role: role = value
        case .namespace: namespace = value
        case .pod: pod = value
        case .srcIP: srcIP = value
        case .dstIP: dstIP = value
        case .srcNs: srcNamespace = value
        case .srcPod: srcPod = value
        case .dstNs: dstNamespace = value
        case .dstPod: dstPod = value
        case .dstService: dstService = value
        case .srcWorkload: srcWorkload = value
        case .dstWorkload: dstWorkload = value
        case .lossReason: lossReason = value
        case .tcpNewState: tcpNewState = value
        case .httpMethod: httpMethod = value
        case .httpURI: httpURI = value
        case .dnsDomain: dnsQueryDomain = value
        case .dnsType: dnsQueryType = value
        case .dnsRcode: dnsResponseCode = value
        case .exemplar: exemplar = value
        default: break
        }
    }

    /// Negative or fractional values are not counters of ours: nil, read as 0.
    private mutating func setNumber(_ field: Field, _ number: UInt64?) {
        let value = number ?? 0
        switch field {
        case .tsNs: tsNs = value
        case .srcPort: srcPort = value
        case .dstPort: dstPort = value
        case .tcpTx: tcpTxBytes = value
        case .tcpRx: tcpRxBytes = value
        case .tcpRetransmit: tcpRetransmit = value
        case .tcpDrop: tcpDrop = value
        case .tcpTLP: tcpTLP = value
        case .tcpRTT: tcpRTT = value
        case .udpTx: udpTxBytes = value
        case .udpRx: udpRxBytes = value
        case .httpStatus: httpStatusCode = number
        case .httpDuration: httpDuration = number
        case .dnsDuration: dnsDuration = number
        case .count: count = number
        case .httpDurationSum: httpDurationSum = number
        case .dnsDurationSum: dnsDurationSum = number
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

/// A forward-only reader of one flat JSON object. Strings are unescaped; unsigned integers are
/// read as UInt64 (other numbers as nil); nested arrays and objects are skipped with their contents.
struct FlatJSONScanner {
    enum Value { case string(String), number(UInt64?), other }
    struct Malformed: Error {}

    let bytes: [UInt8]
    var i = 0
    private var first = true

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    mutating func begin() -> Bool {
        skipSpace()
        guard i < bytes.count, bytes[i] == UInt8(ascii: "{") else { return false }
        i += 1
        return true
    }

    /// The byte range of the next key (between its quotes), or nil at the closing brace. Keys
    /// with escapes match no field of ours and are given as an empty range.
    mutating func nextKey() throws -> Range<Int>? {
        skipSpace()
        guard i < bytes.count else { throw Malformed() }
        if bytes[i] == UInt8(ascii: "}") { return nil }
        if !first {
            guard bytes[i] == UInt8(ascii: ",") else { throw Malformed() }
            i += 1
            skipSpace()
        }
        first = false
        guard i < bytes.count, bytes[i] == UInt8(ascii: "\"") else { throw Malformed() }
        let start = i + 1
        try skipString()
        let key = bytes[start..<(i - 1)].contains(UInt8(ascii: "\\")) ? start..<start : start..<(i - 1)
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
            // Digits only make a UInt64; a sign, fraction, exponent or overflow make nil.
            var value: UInt64? = 0
            while i < bytes.count, Self.isNumberByte(bytes[i]) {
                let b = bytes[i]
                if let v = value, b >= UInt8(ascii: "0"), b <= UInt8(ascii: "9") {
                    let (m, o1) = v.multipliedReportingOverflow(by: 10)
                    let (sum, o2) = m.addingReportingOverflow(UInt64(b - UInt8(ascii: "0")))
                    value = o1 || o2 ? nil : sum
                } else {
                    value = nil
                }
                i += 1
            }
            return .number(value)
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

    /// Skips a value whose field is not read: strings are stepped over, not built.
    mutating func skipValue() throws {
        skipSpace()
        guard i < bytes.count else { throw Malformed() }
        switch bytes[i] {
        case UInt8(ascii: "\""): try skipString()
        case UInt8(ascii: "["), UInt8(ascii: "{"): try skipNested()
        default: _ = try value()
        }
    }

    private mutating func skipString() throws {
        i += 1
        while i < bytes.count {
            switch bytes[i] {
            case UInt8(ascii: "\""): i += 1; return
            case UInt8(ascii: "\\"): i += 2
            default: i += 1
            }
        }
        throw Malformed()
    }

    static func isNumberByte(_ b: UInt8) -> Bool {
        (b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9")) || b == UInt8(ascii: "-") || b == UInt8(ascii: "+")
            || b == UInt8(ascii: ".") || b == UInt8(ascii: "e") || b == UInt8(ascii: "E")
    }

    mutating func skipSpace() {
        while i < bytes.count, bytes[i] == 0x20 || bytes[i] == 0x09 || bytes[i] == 0x0A || bytes[i] == 0x0D { i += 1 }
    }

    /// A string at `i` (which is its opening quote), unescaped. The fast path copies the bytes
    /// between the quotes when there is no escape.
    mutating func string() throws -> String {
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
            case UInt8(ascii: "\""): try skipString()
            default: i += 1
            }
        }
        throw Malformed()
    }
}
