/// `netobs tail`'s table: one line per record with aligned columns — time (UTC, as `timeFormat`), kind,
/// source → destination (pod when joined, else address), and the record's key metric.
/// Columns are padded, never cut: a long name shifts the rest of its line rather than lose text.
/// Every text that comes from traffic or topology goes through `TerminalText.escape`.
public struct RecordTable: Sendable {
    public var colour: Bool
    public var timeFormat: TimeFormat
    /// The wall clock, for `relative` times.
    public var now: @Sendable () -> UInt64

    public init(colour: Bool, timeFormat: TimeFormat = .time, now: @escaping @Sendable () -> UInt64 = TimeFormat.nowNs) {
        self.colour = colour
        self.timeFormat = timeFormat
        self.now = now
    }

    static let widths = (kind: 8, endpoint: 34)

    public var header: String {
        let w = Self.widths
        let line = pad("TIME", timeFormat.width) + " " + pad("KIND", w.kind) + " " + pad("SOURCE", w.endpoint) + "   "
            + pad("DESTINATION", w.endpoint) + " SUMMARY"
        return paint(line, .bold)
    }

    public func line(_ r: RecordView) -> String {
        let w = Self.widths
        let esc = TerminalText.escape
        let time = timeFormat.format(r.tsNs, nowNs: timeFormat == .relative ? now() : 0)
        return paint(pad(time, timeFormat.width), .dim) + " "
            + paint(pad(r.kind.isEmpty ? "?" : esc(r.kind), w.kind), Self.kindStyle(r.kind)) + " "
            + pad(esc(Self.source(r)), w.endpoint) + " → " + pad(esc(Self.destination(r)), w.endpoint) + " "
            + summary(r)
    }

    /// A line that is not a JSON object is shown as it came.
    public func unparsed(_ line: String) -> String { paint("unparsed record: ", .red) + TerminalText.escape(line) }

    // MARK: Columns

    static func source(_ r: RecordView) -> String {
        if r.kind == "anomaly" { return r.pod.isEmpty ? "-" : "\(r.namespace)/\(r.pod)" }
        return endpoint(ns: r.srcNamespace, pod: r.srcPod, service: "", ip: r.srcIP, port: r.srcPort)
    }

    static func destination(_ r: RecordView) -> String {
        if r.kind == "anomaly" { return "-" }
        return endpoint(ns: r.dstNamespace, pod: r.dstPod, service: r.dstService, ip: r.dstIP, port: r.dstPort)
    }

    private static func endpoint(ns: String, pod: String, service: String, ip: String, port: UInt64) -> String {
        let portText = port == 0 ? "" : ":\(port)"
        if !pod.isEmpty { return (ns.isEmpty ? pod : "\(ns)/\(pod)") + portText }
        if !service.isEmpty { return "svc " + (ns.isEmpty ? service : "\(ns)/\(service)") + portText }
        if ip.isEmpty { return "-" }
        return (ip.contains(":") ? "[\(ip)]" : ip) + portText
    }

    func summary(_ r: RecordView) -> String {
        switch r.kind {
        case "tcp":
            var parts = ["tx \(Self.bytes(r.tcpTxBytes))", "rx \(Self.bytes(r.tcpRxBytes))"]
            if r.tcpRetransmit > 0 { parts.append(paint("retrans \(r.tcpRetransmit)", .yellow)) }
            if r.tcpDrop > 0 { parts.append(paint("drop \(r.tcpDrop)", .red)) }
            if r.tcpRTT > 0 { parts.append("rtt \(Self.duration(r.tcpRTT))") }
            if !r.tcpNewState.isEmpty { parts.append(r.tcpNewState) }
            return parts.joined(separator: " ")
        case "udp":
            return "tx \(Self.bytes(r.udpTxBytes)) rx \(Self.bytes(r.udpRxBytes))"
        case "http":
            let status = r.httpStatusCode.map(String.init) ?? "-"
            let style: Style = (r.httpStatusCode ?? 0) >= 500 ? .red : (r.httpStatusCode ?? 0) >= 400 ? .yellow : .green
            return "\(TerminalText.escape(r.httpMethod)) \(TerminalText.escape(r.httpURI)) " + paint(status, style)
                + (r.httpDuration.map { " " + Self.duration($0) } ?? "")
        case "dns":
            let style: Style = r.dnsResponseCode == "NOERROR" ? .green : .red
            return "\(TerminalText.escape(r.dnsQueryType)) \(TerminalText.escape(r.dnsQueryDomain)) "
                + paint(r.dnsResponseCode.isEmpty ? "-" : TerminalText.escape(r.dnsResponseCode), style)
                + (r.dnsDuration.map { " " + Self.duration($0) } ?? "")
        default:
            return r.node.isEmpty ? "" : "node \(TerminalText.escape(r.node))"
        }
    }

    // MARK: Units

    static func bytes(_ n: UInt64) -> String {
        if n < 1024 { return "\(n)B" }
        let units = ["KiB", "MiB", "GiB", "TiB"]
        var v = Double(n) / 1024
        var i = 0
        while v >= 1024 && i < units.count - 1 { v /= 1024; i += 1 }
        return oneDecimal(v) + units[i]
    }

    static func duration(_ ns: UInt64) -> String {
        if ns < 1_000 { return "\(ns)ns" }
        if ns < 1_000_000 { return oneDecimal(Double(ns) / 1e3) + "µs" }
        if ns < 1_000_000_000 { return oneDecimal(Double(ns) / 1e6) + "ms" }
        return oneDecimal(Double(ns) / 1e9) + "s"
    }

    private static func oneDecimal(_ v: Double) -> String {
        let tenths = Int((v * 10).rounded())
        return "\(tenths / 10).\(tenths % 10)"
    }

    // MARK: Colour

    enum Style: String { case bold = "1", dim = "2", red = "31", green = "32", yellow = "33", blue = "34", magenta = "35", cyan = "36" }

    static func kindStyle(_ kind: String) -> Style {
        switch kind {
        case "tcp": .cyan
        case "udp": .blue
        case "http": .green
        case "dns": .magenta
        case "loss", "anomaly", "dropped": .red
        default: .yellow
        }
    }

    func paint(_ text: String, _ style: Style) -> String {
        colour ? "\u{1B}[\(style.rawValue)m\(text)\u{1B}[0m" : text
    }

    private func pad(_ text: String, _ width: Int) -> String {
        let n = text.count
        return n >= width ? text : text + String(repeating: " ", count: width - n)
    }
}
