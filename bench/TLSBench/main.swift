// Bulk TLS throughput of our stack, one thread: `swift run -c release TLSBench [--rounds N] [--mb N]`.
// After a TLS 1.3 mutual-auth handshake, one side writes records of 1 KiB or 16 KiB, the ciphertext
// is fed to the other side, which decrypts and reads it: each byte is encrypted once and decrypted
// once on this thread. Two paths: TLSEngine alone (memory BIOs) and TLSHandler in a pair of
// EmbeddedChannels. Prints one JSON object (bench/tls.sh adds `openssl speed` and the ratios).
import Foundation
import NIOCore
import NIOEmbedded
import NetobsTLS

struct Options {
    var rounds = 7
    var megabytes = 64

    init(_ arguments: [String]) {
        var it = arguments.makeIterator()
        while let flag = it.next() {
            guard let value = it.next().flatMap(Int.init), value > 0 else { usage("missing or bad value for \(flag)") }
            switch flag {
            case "--rounds": rounds = value
            case "--mb": megabytes = value
            default: usage("unknown option \(flag)")
            }
        }
    }
}

func usage(_ problem: String) -> Never {
    FileHandle.standardError.write(Data("TLSBench: \(problem)\nusage: TLSBench [--rounds N] [--mb N]\n".utf8))
    exit(2)
}

func fail(_ problem: String) -> Never {
    FileHandle.standardError.write(Data("TLSBench: \(problem)\n".utf8))
    exit(1)
}

/// A CA, a controller (server) and an agent (client) certificate, as the deployment has them.
func contexts() throws -> (server: TLSContext, client: TLSContext) {
    let ca = try CertificateFactory.selfSigned(CertificateRequest(commonName: "bench CA", usage: .certificateAuthority))
    let server = try CertificateFactory.issue(
        CertificateRequest(commonName: "netobs-controller", usage: .server, role: .controller, dnsNames: ["localhost"]), by: ca)
    let agent = try CertificateFactory.issue(CertificateRequest(commonName: "node-1", usage: .client, role: .agent), by: ca)
    return (try TLSContext(configuration: .server(trustRoots: .bytes(ca.0.pem), certificateChain: .bytes(server.0.pem),
                                                   privateKey: .bytes(server.1.pkcs8PEM),
                                                   acceptedClientRoles: NetobsRole.clientRoles)),
            try TLSContext(configuration: .client(trustRoots: .bytes(ca.0.pem), certificateChain: .bytes(agent.0.pem),
                                                   privateKey: .bytes(agent.1.pkcs8PEM))))
}

/// Wall and on-thread CPU seconds of `body` (the machine is shared: CPU time is what `openssl speed` divides by).
func timed(_ body: () throws -> Void) rethrows -> (wall: Double, cpu: Double) {
    func cpuNow() -> Double {
        var t = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t)
        return Double(t.tv_sec) + Double(t.tv_nsec) / 1e9
    }
    let wall0 = DispatchTime.now().uptimeNanoseconds, cpu0 = cpuNow()
    try body()
    return (Double(DispatchTime.now().uptimeNanoseconds - wall0) / 1e9, cpuNow() - cpu0)
}

/// The cipher suite the ServerHello (sent in the clear, first in the server's first flight) chose.
func cipherSuite(ofServerHello flight: ByteBuffer) -> String {
    let bytes = Array(flight.readableBytesView)
    // record header 5, handshake header 4, version 2, random 32, then the session id, then the suite.
    guard bytes.count > 44, bytes[0] == 22, bytes[5] == 2 else { return "unknown (no ServerHello)" }
    let at = 44 + Int(bytes[43])
    guard bytes.count >= at + 2 else { return "unknown (short ServerHello)" }
    switch (UInt16(bytes[at]) << 8) | UInt16(bytes[at + 1]) {
    case 0x1301: return "TLS_AES_128_GCM_SHA256"
    case 0x1302: return "TLS_AES_256_GCM_SHA384"
    case 0x1303: return "TLS_CHACHA20_POLY1305_SHA256"
    case let other: return "0x" + String(other, radix: 16)
    }
}
nonisolated(unsafe) var negotiatedSuite: String?

/// One direction through two engines: write a record, move its ciphertext, decrypt it.
func enginePath(_ pki: (server: TLSContext, client: TLSContext), record: ByteBuffer, records: Int) throws -> (wall: Double, cpu: Double) {
    let client = try TLSEngine(context: pki.client, serverName: "localhost")
    let server = try TLSEngine(context: pki.server)
    var done = (client: false, server: false)
    for _ in 0..<20 where !(done.client && done.server) {
        if !done.client, case .complete = try client.handshake() { done.client = true }
        if !done.server, case .complete = try server.handshake() { done.server = true }
        if let bytes = client.takeCiphertext() { server.receive(bytes) }
        if let bytes = server.takeCiphertext() {
            if negotiatedSuite == nil { negotiatedSuite = cipherSuite(ofServerHello: bytes) }
            client.receive(bytes)
        }
    }
    guard done.client && done.server else { fail("engine handshake did not complete") }
    var plaintext = ByteBuffer()
    plaintext.reserveCapacity(record.readableBytes + 16384)
    var received = 0
    let time = try timed {
        for _ in 0..<records {
            try client.write(record)
            guard let ciphertext = client.takeCiphertext() else { fail("no ciphertext after a write") }
            server.receive(ciphertext)
            plaintext.clear()
            while case .bytes = try server.read(into: &plaintext) {}
            received += plaintext.readableBytes
        }
    }
    check(received: received, last: plaintext, record: record, records: records)
    return time
}

/// The application above the receiving TLSHandler: counts plaintext, keeps the last read.
final class Sink: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    var received = 0
    var last = ByteBuffer()

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        last = unwrapInboundIn(data)
        received += last.readableBytes
    }
}

/// Moves all pending ciphertext from one channel to the other; true if any moved.
func move(_ from: EmbeddedChannel, _ to: EmbeddedChannel) throws -> Bool {
    var moved = false
    while let bytes = try from.readOutbound(as: ByteBuffer.self) {
        try to.writeInbound(bytes)
        moved = true
    }
    return moved
}

/// One direction through two TLSHandlers, each in an EmbeddedChannel; ciphertext is moved between them.
func handlerPath(_ pki: (server: TLSContext, client: TLSContext), record: ByteBuffer, records: Int) throws -> (wall: Double, cpu: Double) {
    let client = EmbeddedChannel(handler: try TLSHandler(context: pki.client, serverName: "localhost", handshakeTimeout: nil))
    let server = EmbeddedChannel(handler: try TLSHandler(context: pki.server, handshakeTimeout: nil))
    defer { _ = try? client.finish(acceptAlreadyClosed: true); _ = try? server.finish(acceptAlreadyClosed: true) }
    try server.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
    try client.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
    for _ in 0..<20 {
        let a = try move(client, server), b = try move(server, client)
        if !a && !b { break }
    }
    let sink = Sink()
    try server.pipeline.syncOperations.addHandler(sink)
    let time = try timed {
        for _ in 0..<records {
            client.writeAndFlush(record, promise: nil)
            guard try move(client, server) else { fail("no ciphertext after a write (handshake incomplete?)") }
        }
    }
    check(received: sink.received, last: sink.last, record: record, records: records)
    return time
}

/// Every byte arrived, and the last record is the one written (the payload is not all one value).
func check(received: Int, last: ByteBuffer, record: ByteBuffer, records: Int) {
    guard received == record.readableBytes * records else {
        fail("read \(received) bytes, wrote \(record.readableBytes * records)")
    }
    guard last.readableBytesView.suffix(record.readableBytes).elementsEqual(record.readableBytesView) else {
        fail("decrypted bytes differ from those written")
    }
}

func median(_ values: [Double]) -> Double {
    let sorted = values.sorted()
    return sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
}

func rounded(_ value: Double) -> Double { (value * 10).rounded() / 10 }

let options = Options(Array(CommandLine.arguments.dropFirst()))
let pki: (server: TLSContext, client: TLSContext)
do { pki = try contexts() } catch { fail("cannot make certificates: \(error)") }

var results: [String: Any] = [:]
for (name, path) in [("engine", enginePath), ("handler", handlerPath)] {
    for size in [1024, 16384] {
        let record = ByteBuffer(bytes: (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) })
        let records = options.megabytes * 1_000_000 / size
        let bytes = Double(records * size)
        do { _ = try path(pki, record, max(1, records / 10)) } catch { fail("\(name) warm-up: \(error)") }
        var wall: [Double] = [], cpu: [Double] = []
        for _ in 0..<options.rounds {
            let time: (wall: Double, cpu: Double)
            do { time = try path(pki, record, records) } catch { fail("\(name) \(size) B: \(error)") }
            wall.append(bytes / time.wall / 1e6)
            cpu.append(bytes / time.cpu / 1e6)
        }
        results["\(name)_\(size)"] = [
            "record_bytes": size,
            "bytes_per_round": Int(bytes),
            "mb_per_s_median": rounded(median(wall)),
            "mb_per_cpu_s_median": rounded(median(cpu)),
            "mb_per_s_rounds": wall.map(rounded),
        ] as [String: Any]
    }
}
let output: [String: Any] = [
    "unit": "MB/s = 10^6 bytes of plaintext per second, one direction (each byte encrypted and decrypted on one thread)",
    "rounds": options.rounds,
    "tls": "TLS 1.3, mutual auth (agent and controller certificates from CertificateFactory), TLSContext defaults",
    "cipher_suite": negotiatedSuite ?? "unknown",
    "paths": ["engine": "TLSEngine <-> TLSEngine over memory BIOs",
              "handler": "TLSHandler in EmbeddedChannel <-> TLSHandler in EmbeddedChannel"],
    "results": results,
]
let json = try JSONSerialization.data(withJSONObject: output, options: [.prettyPrinted, .sortedKeys])
print(String(decoding: json, as: UTF8.self))
