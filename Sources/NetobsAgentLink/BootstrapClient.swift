import NIOCore
import NIOPosix
import NetobsTLS
import NetobsWire
import NetobsWireNIO

/// One bootstrap exchange with the controller's bootstrap listener (PROTOCOL.md §5.1): TLS that
/// verifies the controller against the pinned CA (the agent presents no certificate), one
/// BootstrapRequest, its BootstrapResponse or Error, close.
public enum BootstrapClient {
    public struct Failure: Error, CustomStringConvertible, Sendable {
        public let description: String
        /// The controller's Error code when it refused; nil for transport and TLS failures.
        public let code: ErrorCode?
    }

    /// The signed certificate (DER) the controller returned.
    public static func request(_ request: BootstrapRequest, host: String, port: Int, serverName: String,
                               tls: TLSContext, timeout: TimeAmount = .seconds(15),
                               group: EventLoopGroup = MultiThreadedEventLoopGroup.singleton) async throws -> [UInt8] {
        let loop = group.next()
        let promise = loop.makePromise(of: [UInt8].self)
        let channel = try await ClientBootstrap(group: loop)
            .connectTimeout(.seconds(5))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let sync = channel.pipeline.syncOperations
                    try sync.addHandler(TLSHandler(context: tls, serverName: serverName))
                    try sync.addHandler(FrameHandler())
                    try sync.addHandler(ExchangeHandler(request: request, promise: promise))
                }
            }
            .connect(host: host, port: port).get()
        let deadline = loop.scheduleTask(in: timeout) {
            promise.fail(Failure(description: "no answer from the bootstrap listener within \(timeout)", code: nil))
            channel.close(promise: nil)
        }
        defer { deadline.cancel(); channel.close(promise: nil) }
        return try await promise.futureResult.get()
    }

    /// Sends the request (held by TLS until its handshake) and completes `promise` once.
    private final class ExchangeHandler: ChannelInboundHandler {
        typealias InboundIn = Frame
        typealias OutboundOut = Frame
        static let requestId: UInt64 = 1

        private let request: BootstrapRequest
        private let promise: EventLoopPromise<[UInt8]>
        private var done = false

        init(request: BootstrapRequest, promise: EventLoopPromise<[UInt8]>) {
            self.request = request
            self.promise = promise
        }

        func channelActive(context: ChannelHandlerContext) {
            do {
                let frame = try Frame(.bootstrapRequest(request), correlationId: Self.requestId)
                context.writeAndFlush(wrapOutboundOut(frame), promise: nil)
            } catch {
                fail(context, "cannot encode the bootstrap request: \(error)")
            }
            context.fireChannelActive()
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let frame = unwrapInboundIn(data)
            switch try? frame.message() {
            case .bootstrapResponse(let response)?:
                finish { $0.succeed(response.certificate) }
            case .error(let error)?:
                fail(context, "the controller refused the bootstrap request: \(error.message) (\(error.code))", code: error.code)
            default:
                fail(context, "unexpected answer \(frame.type) from the bootstrap listener")
            }
            context.close(promise: nil)
        }

        func errorCaught(context: ChannelHandlerContext, error: Error) {
            fail(context, "\(error)")
        }

        func channelInactive(context: ChannelHandlerContext) {
            finish { $0.fail(Failure(description: "the bootstrap listener closed the connection before answering", code: nil)) }
            context.fireChannelInactive()
        }

        private func fail(_ context: ChannelHandlerContext, _ text: String, code: ErrorCode? = nil) {
            finish { $0.fail(Failure(description: text, code: code)) }
            context.close(promise: nil)
        }

        private func finish(_ body: (EventLoopPromise<[UInt8]>) -> Void) {
            guard !done else { return }
            done = true
            body(promise)
        }
    }
}
