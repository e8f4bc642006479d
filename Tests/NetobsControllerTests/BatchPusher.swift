import Foundation
import NIOCore
import NIOPosix
import NetobsTLS
import NetobsWire
import NetobsWireNIO

/// A load-generating agent at the frame level (no spool, no kernel): Hello, then FlowBatches
/// 1...n of the same records, at most `window` unacknowledged; done when the last is acknowledged.
final class BatchPusher: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = Frame
    typealias OutboundOut = Frame

    private let node: String
    private let batches: Int
    private let records: [[UInt8]]
    private let window: Int
    private let done: EventLoopPromise<Int>
    private let accepted: EventLoopPromise<Void>
    private let go: EventLoopFuture<Void>
    private var next = 1
    private var acked = 0
    private var finished = false

    private init(node: String, batches: Int, records: [[UInt8]], window: Int, done: EventLoopPromise<Int>,
                 accepted: EventLoopPromise<Void>, go: EventLoopFuture<Void>) {
        self.accepted = accepted
        self.go = go
        self.node = node
        self.batches = batches
        self.records = records
        self.window = window
        self.done = done
    }

    struct Session {
        let channel: Channel
        /// Succeeds when the controller accepted the Hello.
        let accepted: EventLoopFuture<Void>
        /// The highest acknowledged sequence, once it is the last.
        let done: EventLoopFuture<Int>
    }

    /// Connects as `node`; pushing starts once accepted and `go` succeeded.
    static func connect(node: String, port: Int, tls: TLSContext, batches: Int, records: [[UInt8]], window: Int,
                        go: EventLoopFuture<Void>, group: EventLoopGroup = MultiThreadedEventLoopGroup.singleton) async throws -> Session {
        let loop = group.next()
        let done = loop.makePromise(of: Int.self)
        let accepted = loop.makePromise(of: Void.self)
        let channel = try await ClientBootstrap(group: loop)
            .connectTimeout(.seconds(60))
            .channelInitializer { ch in
                ch.eventLoop.makeCompletedFuture {
                    let sync = ch.pipeline.syncOperations
                    try sync.addHandler(TLSHandler(context: tls, serverName: "127.0.0.1"))
                    try sync.addHandler(FrameHandler())
                    try sync.addHandler(BatchPusher(node: node, batches: batches, records: records, window: window,
                                                    done: done, accepted: accepted, go: go))
                }
            }
            .connect(host: "127.0.0.1", port: port).get()
        done.futureResult.whenComplete { _ in accepted.fail(BatchPusherFailure(description: "\(node): never accepted")) }
        return Session(channel: channel, accepted: accepted.futureResult, done: done.futureResult)
    }

    /// Connects and pushes at once; returns the highest acknowledged sequence.
    static func push(node: String, port: Int, tls: TLSContext, batches: Int, records: [[UInt8]], window: Int) async throws -> Int {
        let go = MultiThreadedEventLoopGroup.singleton.next().makeSucceededVoidFuture()
        let session = try await connect(node: node, port: port, tls: tls, batches: batches, records: records,
                                        window: window, go: go)
        defer { session.channel.close(promise: nil) }
        return try await session.done.get()
    }

    func channelActive(context: ChannelHandlerContext) {
        let hello = Hello(role: .agent, capabilities: [Capability.recordsJSON],
                          agent: AgentIdentity(nodeName: node, agentVersion: "load", kernelRelease: "load"))
        context.writeAndFlush(wrapOutboundOut(try! Frame(.hello(hello), correlationId: 1)), promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch try? unwrapInboundIn(data).message() {
        case .helloAccept(let accept)?:
            context.triggerUserOutboundEvent(FrameLimitEvent.setMaxPayload(accept.maxPayloadSize), promise: nil)
            accepted.succeed()
            let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
            go.hop(to: context.eventLoop).whenSuccess { bound.value.0.pump(bound.value.1) }
        case .ack(let ack)?:
            acked = max(acked, Int(ack.sequence))
            if acked == batches { finish(.success(acked)) } else { pump(context) }
        case .error(let e)?:
            finish(.failure(BatchPusherFailure(description: "\(node): controller error \(e.code) \(e.message)")))
        default:
            break
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        finish(.failure(BatchPusherFailure(description: "\(node): closed after \(acked) of \(batches) acknowledged")))
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        finish(.failure(error))
        context.close(promise: nil)
    }

    private func finish(_ result: Result<Int, any Error>) {
        guard !finished else { return }
        finished = true
        done.completeWith(result)
    }

    private func pump(_ context: ChannelHandlerContext) {
        var wrote = false
        while next <= batches && next - acked - 1 < window {
            let batch = FlowBatch(agentId: node, sequence: UInt64(next), format: .jsonLines, records: records)
            context.write(wrapOutboundOut(try! Frame(.flowBatch(batch), correlationId: UInt64(next))), promise: nil)
            next += 1
            wrote = true
        }
        if wrote { context.flush() }
    }
}

struct BatchPusherFailure: Error, CustomStringConvertible {
    let description: String
}
