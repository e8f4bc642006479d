/// What the client sends, encoded (the NATS client protocol's client operations).
public enum NATSClientOps {
    public static func connect(json: String) -> [UInt8] { Array("CONNECT \(json)\r\n".utf8) }
    public static let ping = Array("PING\r\n".utf8)
    public static let pong = Array("PONG\r\n".utf8)

    public static func subscribe(_ subject: String, sid: UInt64, queue: String? = nil) -> [UInt8] {
        Array("SUB \(subject)\(queue.map { " " + $0 } ?? "") \(sid)\r\n".utf8)
    }

    public static func unsubscribe(sid: UInt64) -> [UInt8] { Array("UNSUB \(sid)\r\n".utf8) }

    /// PUB, or HPUB when there are headers (with their NATS/1.0 block).
    public static func publish(_ subject: String, replyTo: String? = nil, headers: [(name: String, value: String)] = [],
                               payload: [UInt8]) -> [UInt8] {
        let reply = replyTo.map { " " + $0 } ?? ""
        guard !headers.isEmpty else {
            return Array("PUB \(subject)\(reply) \(payload.count)\r\n".utf8) + payload + [13, 10]
        }
        var block = "NATS/1.0\r\n"
        for (name, value) in headers { block += "\(name): \(value)\r\n" }
        block += "\r\n"
        let head = Array(block.utf8)
        return Array("HPUB \(subject)\(reply) \(head.count) \(head.count + payload.count)\r\n".utf8) + head + payload + [13, 10]
    }

    /// A subject or token a client may use: no spaces or control characters, not empty.
    public static func isValidSubject(_ s: String) -> Bool {
        !s.isEmpty && !s.utf8.contains { $0 <= 32 || $0 == 127 }
    }
}
