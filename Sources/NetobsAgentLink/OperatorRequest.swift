import NIOCore
import NIOPosix
import NetobsTLS
import NetobsWire
import NetobsWireNIO

/// One operator request (`netobs rules push`, `programs push`, `agents`): connect, Hello as
/// operator, send the request, return the controller's reply (which may be an Error), close.
public enum OperatorRequest {
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    private static let requestId: UInt64 = 2

    public static func send(_ request: Message, to endpoint: ControllerEndpoint, timeout: TimeAmount = .seconds(30),
                            group: EventLoopGroup = MultiThreadedEventLoopGroup.singleton) async throws -> Message {
        let loop = group.next()
        let exchange = Exchange(request: request, promise: loop.makePromise(of: Message.self))
        let hello = Hello(role: .operator)
        guard let tls = endpoint.tls else { throw Failure(description: "no TLS context to connect to the controller with") }
        let channel = try await ClientBootstrap(group: loop)
            .connectTimeout(.seconds(5))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let sync = channel.pipeline.syncOperations
                    try sync.addHandler(TLSHandler(context: tls, serverName: endpoint.serverName))
                    try sync.addHandler(FrameHandler())
                    try sync.addHandler(ClientSessionHandler(hello: hello, events: exchange))
                }
            }
            .connect(host: endpoint.host, port: endpoint.port).get()
        let deadline = loop.scheduleTask(in: timeout) {
            exchange.fail("no answer from the controller within \(timeout)")
            channel.close(promise: nil)
        }
        defer { deadline.cancel(); channel.close(promise: nil) }
        let answer = try await exchange.promise.futureResult.get()
        withExtendedLifetime(exchange) {}  // the handler holds its events weakly
        return answer
    }

    /// The client's events for one exchange, on its event loop.
    private final class Exchange: ClientSessionEvents, @unchecked Sendable {
        let request: Message
        let promise: EventLoopPromise<Message>
        private var done = false

        init(request: Message, promise: EventLoopPromise<Message>) {
            self.request = request
            self.promise = promise
        }

        func fail(_ reason: String) {
            guard !done else { return }
            done = true
            promise.fail(Failure(description: reason))
        }

        func sessionAccepted(_ accept: HelloAccept, channel: Channel) {
            do {
                channel.writeAndFlush(try Frame(request, correlationId: OperatorRequest.requestId), promise: nil)
            } catch {
                fail("cannot encode the request: \(error)")
            }
        }

        func sessionReceived(_ message: Message, frame: Frame, channel: Channel) {
            guard !done, frame.correlationId == OperatorRequest.requestId, frame.flags.contains(.reply) else { return }
            done = true
            promise.succeed(message)
        }

        func sessionFailed(_ reason: String) { fail(reason) }
        func sessionClosed(channel: Channel) { fail("the controller closed the connection before answering") }
    }
}
