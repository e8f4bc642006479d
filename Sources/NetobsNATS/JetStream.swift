import Foundation

/// JetStream over a NATS connection: streams created through the `$JS.API` subjects, and
/// publishes the server acknowledges once stored (replicated to the stream's quorum),
/// deduplicated by `Nats-Msg-Id` within the stream's duplicate window.
public struct JetStream: Sendable {
    public let connection: NATSConnection
    public var timeout: Duration = .seconds(5)

    public init(_ connection: NATSConnection) { self.connection = connection }

    public struct StreamConfig: Sendable {
        public var name: String
        public var subjects: [String]
        public var replicas = 1
        public var fileStorage = true
        /// How long a `Nats-Msg-Id` is remembered for deduplication.
        public var duplicateWindowSeconds = 120
        public init(name: String, subjects: [String]) {
            self.name = name
            self.subjects = subjects
        }

        var json: [String: Any] {
            ["name": name, "subjects": subjects, "num_replicas": replicas, "storage": fileStorage ? "file" : "memory",
             "duplicate_window": duplicateWindowSeconds * 1_000_000_000, "retention": "limits", "discard": "old"]
        }
    }

    /// The server's answer to a publish: the stream, its sequence number, and whether the
    /// message id had been stored already (then nothing new was stored).
    public struct PubAck: Sendable, Equatable {
        public var stream: String
        public var sequence: UInt64
        public var duplicate: Bool
    }

    public struct APIError: Error, CustomStringConvertible, Equatable {
        public let code: Int
        public let description: String
    }

    /// Creates the stream, or leaves one with the same configuration as it is.
    public func createStream(_ config: StreamConfig) async throws {
        let body = try JSONSerialization.data(withJSONObject: config.json, options: [.sortedKeys])
        let answer = try await api("STREAM.CREATE." + config.name, Array(body))
        if let error = answer["error"] as? [String: Any] {
            let code = error["err_code"] as? Int ?? 0
            // 10058: a stream of that name exists (with the same configuration it is not an error).
            if code != 10058 { throw APIError(code: code, description: error["description"] as? String ?? "stream not created") }
        }
    }

    /// Messages and last sequence of a stream.
    public func streamState(_ name: String) async throws -> (messages: UInt64, lastSequence: UInt64) {
        let answer = try await api("STREAM.INFO." + name, [])
        if let error = answer["error"] as? [String: Any] {
            throw APIError(code: error["err_code"] as? Int ?? 0, description: error["description"] as? String ?? "no stream info")
        }
        let state = answer["state"] as? [String: Any] ?? [:]
        return (Self.uint(state["messages"]), Self.uint(state["last_seq"]))
    }

    /// Stores `payload` on `subject`; `messageId` makes a resend of the same message a duplicate
    /// the server acknowledges without storing it again.
    public func publish(_ subject: String, payload: [UInt8], messageId: String? = nil,
                        extraHeaders: [(name: String, value: String)] = []) async throws -> PubAck {
        var headers = extraHeaders
        if let messageId { headers.insert(("Nats-Msg-Id", messageId), at: 0) }
        let reply = try await connection.request(subject, headers: headers, payload: payload, timeout: timeout)
        if reply.status == 503 { throw APIError(code: 503, description: "no stream stores \(subject)") }
        let answer = try Self.object(reply.payload)
        if let error = answer["error"] as? [String: Any] {
            throw APIError(code: error["err_code"] as? Int ?? 0, description: error["description"] as? String ?? "publish refused")
        }
        guard let stream = answer["stream"] as? String else { throw APIError(code: 0, description: "publish answer without a stream") }
        return PubAck(stream: stream, sequence: Self.uint(answer["seq"]), duplicate: answer["duplicate"] as? Bool ?? false)
    }

    private func api(_ call: String, _ body: [UInt8]) async throws -> [String: Any] {
        let reply = try await connection.request("$JS.API." + call, payload: body, timeout: timeout)
        if reply.status == 503 { throw APIError(code: 503, description: "JetStream is not enabled on the server") }
        return try Self.object(reply.payload)
    }

    static func object(_ bytes: [UInt8]) throws -> [String: Any] {
        guard let object = try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any] else {
            throw NATSProtocolError("JetStream answer is not a JSON object")
        }
        return object
    }

    static func uint(_ value: Any?) -> UInt64 {
        if let n = value as? NSNumber { return n.uint64Value }
        return 0
    }
}
