/// The bytes of a record stream on HTTP: NDJSON (one record a line) or server-sent events (one
/// `data:` event a record). Records the controller dropped for this client are announced in
/// the stream: a `{"kind":"dropped","records":N}` line, or an event named `dropped`.
enum StreamFraming {
    static func chunk(_ records: [[UInt8]], dropped: UInt64, framing: StreamRequest.Framing) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(records.reduce(64) { $0 + $1.count + 8 })
        switch framing {
        case .ndjson:
            if dropped > 0 { out += Array(#"{"kind":"dropped","records":\#(dropped)}"#.utf8) + [0x0A] }
            for r in records {
                out += r
                out.append(0x0A)
            }
        case .serverSentEvents:
            if dropped > 0 { out += Array("event: dropped\ndata: {\"records\":\(dropped)}\n\n".utf8) }
            for r in records {
                // Records are single-line JSON; a newline inside one would end the event early.
                out += Array("data: ".utf8) + r.filter { $0 != 0x0A && $0 != 0x0D } + [0x0A, 0x0A]
            }
        }
        return out
    }

    /// An SSE comment: keeps proxies from timing the stream out and finds dead clients.
    static let keepalive = Array(": keepalive\n\n".utf8)

    static func contentType(_ framing: StreamRequest.Framing) -> String {
        framing == .ndjson ? "application/x-ndjson" : "text/event-stream"
    }
}
