import Foundation
import NetobsAgentLink
import NetobsTLS
import NetobsWire

/// The benchmark's 100 consumers in a process of their own, as a real deployment has them on
/// other machines: their TLS decryption and decoding then count against neither the controller's
/// CPU time nor (when the script pins the two processes to different cores) its cores.
/// Parent side: `launch`, then `finish` for the count received. Child side: `main`.
struct ConsumerProcess {
    static let flag = "--consumers"
    let process: Process
    let input: Pipe
    let output: Pipe

    /// Starts `count` consumers subscribed to `port`, each to namespace ns-k when `filtered`.
    /// NETOBS_BENCH_CONSUMER_CPUS (a taskset list) pins them.
    static func launch(port: Int, filtered: Bool, count: Int, pki: String) throws -> ConsumerProcess {
        let me = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")
        let args = [me, flag, String(port), filtered ? "filtered" : "all", String(count), pki]
        let process = Process()
        if let cpus = ProcessInfo.processInfo.environment["NETOBS_BENCH_CONSUMER_CPUS"] {
            process.executableURL = URL(fileURLWithPath: "/usr/bin/taskset")
            process.arguments = ["-c", cpus] + args
        } else {
            process.executableURL = URL(fileURLWithPath: me)
            process.arguments = Array(args.dropFirst())
        }
        let (input, output) = (Pipe(), Pipe())
        process.standardInput = input
        process.standardOutput = output
        try process.run()
        return ConsumerProcess(process: process, input: input, output: output)
    }

    /// Asks the consumers to wait for `expected` records (at most 60 s) and returns how many came.
    func finish(expected: Int) throws -> Int {
        input.fileHandleForWriting.write(Data("\(expected)\n".utf8))
        try input.fileHandleForWriting.close()
        let reply = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0, let received = Int(reply.trimmingCharacters(in: .whitespacesAndNewlines)) else {
            throw BenchError("the consumer process failed (status \(process.terminationStatus), said \(reply.debugDescription))")
        }
        return received
    }

    /// Child: PORT filtered|all COUNT PKI_DIR; reads the expected count on stdin, prints the count received.
    static func main(_ args: [String]) async throws {
        guard args.count == 4, let port = Int(args[0]), let count = Int(args[2]) else {
            throw BenchError("usage: NetobsConsumerBench \(flag) PORT filtered|all COUNT PKI_DIR")
        }
        let dir = args[3]
        let tls = try TLSContext(configuration: .client(trustRoots: .file(dir + "/ca.pem"),
                                                        certificateChain: .file(dir + "/consumer.pem"),
                                                        privateKey: .file(dir + "/consumer.key")))
        let received = Counter()
        let consumers = (0..<count).map { k in
            ConsumerStream(endpoint: ControllerEndpoint(host: "127.0.0.1", port: port, tls: tls),
                           filter: args[1] == "filtered" ? Subscribe(namespace: "ns-\(k)") : Subscribe(),
                           log: { _ in }, onBatch: { received.add($0.records.count) })
        }
        consumers.forEach { $0.start() }
        let line = await Task.detached { readLine() }.value
        let expected = line.flatMap { Int($0) } ?? 0
        let deadline = Date().addingTimeInterval(60)
        while received.value < expected, Date() < deadline { try await Task.sleep(for: .milliseconds(10)) }
        for c in consumers { await c.stop() }
        print(received.value)
    }
}

extension BenchPKI {
    /// The CA and a consumer certificate as files in `dir`, for the consumer process.
    func writeConsumerFiles(to dir: String) throws {
        let (certificate, key) = try CertificateFactory.issue(
            CertificateRequest(commonName: "bench-consumer", usage: .client, role: .consumer), by: ca)
        try Data(ca.certificate.pem).write(to: URL(fileURLWithPath: dir + "/ca.pem"))
        try Data(certificate.pem).write(to: URL(fileURLWithPath: dir + "/consumer.pem"))
        try Data(key.pkcs8PEM).write(to: URL(fileURLWithPath: dir + "/consumer.key"))
    }
}
