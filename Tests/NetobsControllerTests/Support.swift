import Foundation
import NIOCore
import NIOPosix
import NetobsAgentLink
import NetobsController
import NetobsTLS
import NetobsWire
import NetobsWireNIO

/// Certificates for one test, in memory.
final class PKI: @unchecked Sendable {
    typealias Pair = (certificate: Certificate, key: PrivateKey)
    let ca: Pair
    let server: Pair

    init() throws {
        ca = try CertificateFactory.selfSigned(CertificateRequest(commonName: "test CA", usage: .certificateAuthority))
        server = try CertificateFactory.issue(
            CertificateRequest(commonName: "netobs-controller", usage: .server, role: .controller,
                               dnsNames: ["localhost"], ipAddresses: ["127.0.0.1"]), by: ca)
    }

    func serverContext() throws -> TLSContext {
        try TLSContext(configuration: .server(trustRoots: .bytes(ca.certificate.pem),
                                              certificateChain: .bytes(server.certificate.pem),
                                              privateKey: .bytes(server.key.pkcs8PEM)))
    }

    /// A client certificate; an agent's CN is its node name (the controller checks the Hello against it).
    func clientContext(_ role: NetobsRole?, name: String? = nil) throws -> TLSContext {
        let cn = name ?? (role == .agent ? "node-1" : "client")
        let pair: Pair = try CertificateFactory.issue(CertificateRequest(commonName: cn, usage: .client, role: role), by: ca)
        return try TLSContext(configuration: .client(trustRoots: .bytes(ca.certificate.pem),
                                                     certificateChain: .bytes(pair.certificate.pem),
                                                     privateKey: .bytes(pair.key.pkcs8PEM)))
    }
}

func temporaryDirectory(_ tag: String) -> String {
    let path = NSTemporaryDirectory() + "netobs-\(tag)-\(UUID().uuidString)"
    try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

/// Messages collected from stderr-like logs, for assertions and debugging.
final class LogLines: @unchecked Sendable {
    private let lock = NSLock()
    private var _lines: [String] = []
    var lines: [String] { lock.withLock { _lines } }
    func add(_ line: String) {
        if ProcessInfo.processInfo.environment["NETOBS_TEST_LOG"] != nil { FileHandle.standardError.write(Data((line + "\n").utf8)) }
        lock.withLock { _lines.append(line) }
    }
    var sink: @Sendable (String) -> Void { { [self] in add($0) } }
}

/// Starts a controller on `port`, or on a free port below the ephemeral range when 0: tests
/// restart it on the same port while clients reconnect, and a reconnecting client must not
/// be handed that port as its own source port (a loopback self-connect would hold it).
func startController(_ pki: PKI, data: String, port: Int = 0, heartbeatMs: UInt32 = 5_000,
                     log: LogLines = LogLines(), operatorKey: VerifyingKey? = nil,
                     joiner: TopologyJoiner? = nil) async throws -> Controller {
    var lastError: (any Error)?
    // A restart on a fixed port retries for a while: on a loaded machine the last run's sockets
    // can hold the port a moment after stop() returned.
    let candidates = port == 0 ? (0..<20).map { _ in Int.random(in: 20_000...32_000) } : Array(repeating: port, count: 50)
    for (attempt, candidate) in candidates.enumerated() {
        if port != 0 && attempt > 0 { try await Task.sleep(for: .milliseconds(100)) }
        var config = Controller.Configuration(host: "127.0.0.1", port: candidate, dataDirectory: data,
                                              tls: try pki.serverContext())
        config.heartbeatIntervalMs = heartbeatMs
        config.operatorKey = operatorKey
        config.joiner = joiner
        do {
            return try await Controller.start(config, log: ControllerLog(log.sink))
        } catch {
            lastError = error
        }
    }
    throw lastError!
}

func records(batch: Int, count: Int) -> [[UInt8]] {
    (0..<count).map { Array(#"{"kind":"tcp","batch":\#(batch),"i":\#($0)}"#.utf8) }
}

/// Polls `condition` every 20 ms for up to `seconds`.
func eventually(_ seconds: Double = 15, _ condition: () throws -> Bool) async rethrows -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if try condition() { return true }
        try? await Task.sleep(for: .milliseconds(20))
    }
    return try condition()
}

/// A raw TLS client below the frame layer: writes bytes as given, collects what comes back.
final class RawClient: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer
    private let lock = NSLock()
    private var bytes: [UInt8] = []
    private var _closed = false
    private var _peer: PeerIdentity?
    var received: [UInt8] { lock.withLock { bytes } }
    var closed: Bool { lock.withLock { _closed } }
    var handshakeDone: Bool { lock.withLock { _peer != nil } }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let b = unwrapInboundIn(data)
        lock.withLock { bytes += b.readableBytesView }
    }
    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case .handshakeCompleted(let p)? = event as? TLSUserEvent { lock.withLock { _peer = p } }
    }
    func errorCaught(context: ChannelHandlerContext, error: Error) {}
    func channelInactive(context: ChannelHandlerContext) { lock.withLock { _closed = true } }

    /// Frames decoded from what was received.
    var frames: [Frame] {
        var d = FrameDecoder(maxPayload: Limits.absoluteMaxPayload)
        d.feed(received)
        var out: [Frame] = []
        while let f = try? d.next() { out.append(f) }
        return out
    }

    static func connect(_ tls: TLSContext, port: Int) async throws -> (Channel, RawClient) {
        let raw = RawClient()
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelInitializer { ch in
                ch.eventLoop.makeCompletedFuture {
                    try ch.pipeline.syncOperations.addHandler(TLSHandler(context: tls, serverName: "127.0.0.1"))
                    try ch.pipeline.syncOperations.addHandler(raw)
                }
            }
            .connect(host: "127.0.0.1", port: port).get()
        return (channel, raw)
    }
}
