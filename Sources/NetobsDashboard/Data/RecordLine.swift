import Foundation

/// The fields of a JSON-lines record (DESIGN.md's contract) that the dashboard reads; every
/// other field is ignored. Anomaly records share the stream: `{"kind":"anomaly", "start_ns",
/// "end_ns", "pod", "namespace", "fault", "score", "uri"?, "evidence"?}` — the object of
/// anomalies.jsonl with its `kind` moved to `fault` so that `kind` names the record type. The
/// controller's live analysis writes `fault_kind` and `score_milli` instead; both are read.
struct RecordLine: Decodable {
    var kind: String
    var tsNs: UInt64?
    var role: String?
    var srcPod: String?
    var srcNs: String?
    var dstPod: String?
    var dstNs: String?

    var tcpRetransmit: UInt64?
    var tcpDrop: UInt64?
    var tcpRtt: UInt64?
    var tcpError: String?
    var tcpConnectFailed: Bool?

    var httpRequestUri: String?
    var httpStatusCode: Int?
    var httpDuration: UInt64?
    /// `http_aggregate` / `dns_aggregate`: exchanges folded into one record.
    var count: UInt64?
    var httpDurationHistLog2Us: [UInt64]?
    var httpDurationAvg: UInt64?

    var dnsResponseCode: String?
    /// Set on `http`/`dns` exemplars (why they were sent): their exchange is also in an aggregate.
    var exemplar: String?

    var startNs: UInt64?
    var endNs: UInt64?
    var pod: String?
    var namespace: String?
    var fault: String?
    var faultKind: String?
    var score: Double?
    var scoreMilli: UInt64?
    var uri: String?
    /// `open`, `closed`, or `dismissed` (an incident that turned out a blip: withdrawn).
    var status: String?
    /// Evidence as the analysis writes it: a string, a list or an object.
    var evidence: JSONFragment?

    static func decode(_ line: some StringProtocol) throws -> RecordLine {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return try decoder.decode(RecordLine.self, from: Data(line.utf8))
    }
}

/// Any JSON value, to render evidence of any shape.
indirect enum JSONFragment: Decodable {
    case string(String), number(Double), bool(Bool), null
    case array([JSONFragment]), object([(String, JSONFragment)])

    private struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    init(from decoder: any Decoder) throws {
        if let keyed = try? decoder.container(keyedBy: Key.self) {
            // Keys sorted: JSONDecoder does not keep the document's order.
            self = .object(try keyed.allKeys.sorted { $0.stringValue < $1.stringValue }.map {
                ($0.stringValue, try keyed.decode(JSONFragment.self, forKey: $0))
            })
        } else if var list = try? decoder.unkeyedContainer() {
            var items: [JSONFragment] = []
            while !list.isAtEnd { items.append(try list.decode(JSONFragment.self)) }
            self = .array(items)
        } else {
            let single = try decoder.singleValueContainer()
            if single.decodeNil() { self = .null }
            else if let b = try? single.decode(Bool.self) { self = .bool(b) }
            else if let n = try? single.decode(Double.self) { self = .number(n) }
            else { self = .string(try single.decode(String.self)) }
        }
    }

    /// Scalars and arrays of scalars on one line; objects one line per key, nested keys dotted.
    func lines(prefix: String) -> [String] {
        let label = prefix.isEmpty ? "" : prefix + ": "
        switch self {
        case .object(let members):
            return members.flatMap { key, value in value.lines(prefix: prefix.isEmpty ? key : prefix + "." + key) }
        case .array(let items) where items.allSatisfy(\.isScalar):
            return [label + items.map(\.text).joined(separator: ", ")]
        case .array(let items):
            return items.flatMap { $0.lines(prefix: prefix) }
        default:
            return [label + text]
        }
    }

    private var isScalar: Bool {
        switch self {
        case .array, .object: false
        default: true
        }
    }

    private var text: String {
        switch self {
        case .string(let s): s
        case .number(let n): n == n.rounded() && abs(n) < 1e15 ? String(Int64(n)) : String(n)
        case .bool(let b): String(b)
        case .null: "null"
        case .array, .object: ""
        }
    }
}
