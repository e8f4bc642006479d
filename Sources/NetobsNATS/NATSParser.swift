/// Incremental parser of the server's side of the NATS protocol: control lines ending in CRLF,
/// and MSG/HMSG payloads of the length the line gives. Bytes arrive in any split; `next()` gives
/// an operation once it is whole. Malformed input throws (the connection is then closed).
public struct NATSParser: Sendable {
    public static let maxControlLine = 4096
    public static let maxPayload = 64 << 20

    private var buffer: [UInt8] = []
    private var start = 0

    public init() {}

    public mutating func append(_ bytes: some Sequence<UInt8>) {
        if start > 0 && start == buffer.count {
            buffer.removeAll(keepingCapacity: true)
            start = 0
        }
        buffer.append(contentsOf: bytes)
    }

    public mutating func next() throws(NATSProtocolError) -> NATSServerOp? {
        guard let lineEnd = crlf(from: start) else {
            if buffer.count - start > Self.maxControlLine { throw NATSProtocolError("control line longer than \(Self.maxControlLine) bytes") }
            return nil
        }
        let line = String(decoding: buffer[start..<lineEnd], as: UTF8.self)
        let (verb, rest) = Self.split(line)
        switch verb.uppercased() {
        case "PING": consume(to: lineEnd + 2); return .ping
        case "PONG": consume(to: lineEnd + 2); return .pong
        case "+OK": consume(to: lineEnd + 2); return .ok
        case "-ERR":
            consume(to: lineEnd + 2)
            return .error(rest.trimmingQuotes)
        case "INFO":
            consume(to: lineEnd + 2)
            return .info(rest)
        case "MSG", "HMSG":
            let fields = rest.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
            let headered = verb.uppercased() == "HMSG"
            // MSG subject sid [reply] size | HMSG subject sid [reply] header-size total-size
            let counts = headered ? 2 : 1
            guard fields.count == 2 + counts || fields.count == 3 + counts,
                  let sid = UInt64(fields[1]),
                  let total = Int(fields[fields.count - 1]), (0...Self.maxPayload).contains(total) else {
                throw NATSProtocolError("malformed \(verb) line: \(line.prefix(200))")
            }
            let headerSize = headered ? Int(fields[fields.count - 2]) ?? -1 : 0
            guard (0...total).contains(headerSize) else { throw NATSProtocolError("malformed \(verb) header size: \(line.prefix(200))") }
            let bodyStart = lineEnd + 2
            guard buffer.count >= bodyStart + total + 2 else { return nil }  // the payload is not all here yet
            guard buffer[bodyStart + total] == 13, buffer[bodyStart + total + 1] == 10 else {
                throw NATSProtocolError("\(verb) payload not followed by CRLF")
            }
            let reply = fields.count == 3 + counts ? fields[2] : nil
            var message = NATSMessage(subject: fields[0], sid: sid, replyTo: reply,
                                      payload: Array(buffer[(bodyStart + headerSize)..<(bodyStart + total)]))
            if headered { try Self.parseHeaders(Array(buffer[bodyStart..<(bodyStart + headerSize)]), into: &message) }
            consume(to: bodyStart + total + 2)
            return .message(message)
        default:
            throw NATSProtocolError("unknown operation: \(line.prefix(80))")
        }
    }

    /// `NATS/1.0[ status[ description]]` CRLF, then `Name: value` lines, then an empty line.
    static func parseHeaders(_ block: [UInt8], into message: inout NATSMessage) throws(NATSProtocolError) {
        let lines = String(decoding: block, as: UTF8.self).components(separatedBy: "\r\n")
        guard let first = lines.first, first.hasPrefix("NATS/1.0") else { throw NATSProtocolError("header block without NATS/1.0") }
        let status = first.dropFirst("NATS/1.0".count).split(separator: " ").first
        message.status = status.flatMap { Int($0) }
        for line in lines.dropFirst() where !line.isEmpty {
            guard let colon = line.firstIndex(of: ":") else { throw NATSProtocolError("header line without a colon") }
            message.headers.append((String(line[..<colon]), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)))
        }
    }

    private mutating func consume(to index: Int) {
        start = index
        if start > 1 << 16 && start * 2 > buffer.count {
            buffer.removeSubrange(0..<start)
            start = 0
        }
    }

    private func crlf(from index: Int) -> Int? {
        var i = index
        while i + 1 < buffer.count {
            if buffer[i] == 13 && buffer[i + 1] == 10 { return i }
            i += 1
        }
        return nil
    }

    private static func split(_ line: String) -> (String, String) {
        guard let space = line.firstIndex(where: { $0 == " " || $0 == "\t" }) else { return (line, "") }
        return (String(line[..<space]), line[line.index(after: space)...].trimmingCharacters(in: .whitespaces))
    }
}

private extension String {
    var trimmingQuotes: String {
        hasPrefix("'") && hasSuffix("'") && count >= 2 ? String(dropFirst().dropLast()) : self
    }
}
