import Foundation
import NIOCore
import NIOPosix
import NetobsTLS
import Synchronization

/// One client connection to a NATS server, on SwiftNIO: CONNECT after the server's INFO (TLS
/// first when the server requires it, on the project's libssl engine), PING/PONG, publish,
/// subscriptions, and requests answered on one inbox subscription.
public final class NATSConnection: Sendable {
    public struct Options: Sendable {
        public var name = "netobs"
        /// Required when the server says tls_required; never sent in plaintext then.
        public var tls: TLSContext?
        public var tlsServerName: String?
        public var user: String?
        public var password: String?
        public var token: String?
        public var connectTimeout: TimeAmount = .seconds(5)
        public init() {}
    }

    struct State {
        var nextSid: UInt64 = 2  // 1 is the inbox
        var subscriptions: [UInt64: @Sendable (NATSMessage) -> Void] = [:]
        var requests: [String: CheckedContinuation<NATSMessage, any Error>] = [:]
        var pongs: [CheckedContinuation<Void, any Error>] = []
        var nextRequest: UInt64 = 0
        var closedError: (any Error)?
        var serverInfo = ""
    }

    let channel: any Channel
    let state = Mutex(State())
    let inboxPrefix = "_INBOX." + UUID().uuidString.replacingOccurrences(of: "-", with: "")

    /// The server's INFO object as text (its version, JetStream, limits).
    public var serverInfo: String { state.withLock { $0.serverInfo } }

    private init(channel: any Channel) { self.channel = channel }

    public static func connect(host: String, port: Int, options: Options = Options(),
                               group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) async throws -> NATSConnection {
        let ready = group.next().makePromise(of: String.self)
        let box = Mutex<NATSConnection?>(nil)
        let channel: any Channel
        do {
            channel = try await ClientBootstrap(group: group)
            .connectTimeout(options.connectTimeout)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(
                        NATSHandler(options: options, ready: ready, connection: { box.withLock { $0 } }))
                }
            }
            .connect(host: host, port: port).get()
        } catch {
            ready.fail(error)  // never left pending
            throw error
        }
        let connection = NATSConnection(channel: channel)
        box.withLock { $0 = connection }
        let timeout = channel.eventLoop.scheduleTask(in: options.connectTimeout) {
            ready.fail(NATSProtocolError("no answer to CONNECT from \(host):\(port) within the timeout"))
        }
        do {
            connection.info(try await ready.futureResult.get())
            timeout.cancel()
        } catch {
            timeout.cancel()
            try? await channel.close()
            throw error
        }
        try await connection.write(NATSClientOps.subscribe(connection.inboxPrefix + ".*", sid: 1))
        return connection
    }

    func write(_ bytes: [UInt8]) async throws {
        try await channel.writeAndFlush(channel.allocator.buffer(bytes: bytes))
    }

    public func publish(_ subject: String, headers: [(name: String, value: String)] = [], payload: [UInt8]) async throws {
        guard NATSClientOps.isValidSubject(subject) else { throw NATSProtocolError("invalid subject: \(subject)") }
        try await write(NATSClientOps.publish(subject, headers: headers, payload: payload))
    }

    /// Publishes with a reply subject and waits for the one answer.
    public func request(_ subject: String, headers: [(name: String, value: String)] = [], payload: [UInt8],
                        timeout: Duration = .seconds(5)) async throws -> NATSMessage {
        let token = state.withLock { s in
            s.nextRequest += 1
            return String(s.nextRequest)
        }
        let reply = inboxPrefix + "." + token
        let timer = channel.eventLoop.scheduleTask(in: TimeAmount(timeout)) { [self] in
            let waiting = state.withLock { $0.requests.removeValue(forKey: token) }
            waiting?.resume(throwing: NATSProtocolError("no reply on \(subject) within \(timeout)"))
        }
        defer { timer.cancel() }
        return try await withCheckedThrowingContinuation { continuation in
            let closed = state.withLock { s -> (any Error)? in
                if let e = s.closedError { return e }
                s.requests[token] = continuation
                return nil
            }
            if let closed { return continuation.resume(throwing: closed) }
            channel.writeAndFlush(channel.allocator.buffer(bytes: NATSClientOps.publish(subject, replyTo: reply, headers: headers,
                                                                                       payload: payload)))
                .whenFailure { [self] error in state.withLock { $0.requests.removeValue(forKey: token) }?.resume(throwing: error) }
        }
    }

    public func subscribe(_ subject: String, queue: String? = nil,
                          handler: @escaping @Sendable (NATSMessage) -> Void) async throws -> UInt64 {
        let sid = state.withLock { s in
            defer { s.nextSid += 1 }
            s.subscriptions[s.nextSid] = handler
            return s.nextSid
        }
        try await write(NATSClientOps.subscribe(subject, sid: sid, queue: queue))
        return sid
    }

    public func unsubscribe(_ sid: UInt64) async throws {
        _ = state.withLock { $0.subscriptions.removeValue(forKey: sid) }
        try await write(NATSClientOps.unsubscribe(sid: sid))
    }

    /// A PING answered: every operation written before it was processed by the server.
    public func flush() async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            let closed = state.withLock { s -> (any Error)? in
                if let e = s.closedError { return e }
                s.pongs.append(continuation)
                return nil
            }
            if let closed { return continuation.resume(throwing: closed) }
            channel.writeAndFlush(channel.allocator.buffer(bytes: NATSClientOps.ping), promise: nil)
        }
    }

    public func close() async {
        try? await channel.close()
    }

    // MARK: from the handler

    func received(_ message: NATSMessage) {
        if message.sid == 1, message.subject.hasPrefix(inboxPrefix + ".") {
            let token = String(message.subject.dropFirst(inboxPrefix.count + 1))
            state.withLock { $0.requests.removeValue(forKey: token) }?.resume(returning: message)
            return
        }
        state.withLock { $0.subscriptions[message.sid] }?(message)
    }

    func pong() {
        let first = state.withLock { s in s.pongs.isEmpty ? nil : s.pongs.removeFirst() }
        first?.resume()
    }

    func info(_ text: String) { state.withLock { $0.serverInfo = text } }

    func closed(_ error: any Error) {
        let (requests, pongs) = state.withLock { s in
            if s.closedError == nil { s.closedError = error }
            defer { s.requests = [:]; s.pongs = [] }
            return (Array(s.requests.values), s.pongs)
        }
        for r in requests { r.resume(throwing: error) }
        for p in pongs { p.resume(throwing: error) }
    }
}
