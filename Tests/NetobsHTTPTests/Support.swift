import Foundation
import NetobsController
import NetobsHTTP
import NetobsTLS

/// A CA, the controller's certificate and client certificates, also as files for curl.
final class FilePKI: @unchecked Sendable {
    typealias Pair = (certificate: Certificate, key: PrivateKey)
    let dir: String
    let ca: Pair
    let server: Pair

    init() throws {
        dir = temporaryDirectory("pki")
        ca = try CertificateFactory.selfSigned(CertificateRequest(commonName: "test CA", usage: .certificateAuthority))
        server = try CertificateFactory.issue(
            CertificateRequest(commonName: "netobs-controller", usage: .server, role: .controller,
                               dnsNames: ["localhost"], ipAddresses: ["127.0.0.1"]), by: ca)
        try write("ca.pem", ca.certificate.pem)
    }

    func serverContext(roles: Set<NetobsRole> = NetobsRole.clientRoles) throws -> TLSContext {
        try TLSContext(configuration: .server(trustRoots: .bytes(ca.certificate.pem),
                                              certificateChain: .bytes(server.certificate.pem),
                                              privateKey: .bytes(server.key.pkcs8PEM), acceptedClientRoles: roles))
    }

    /// Writes a client certificate with `role` and returns (cert path, key path).
    func clientFiles(_ role: NetobsRole) throws -> (cert: String, key: String) {
        let pair: Pair = try CertificateFactory.issue(CertificateRequest(commonName: "client-\(role)", usage: .client, role: role), by: ca)
        try write("\(role).pem", pair.certificate.pem)
        try write("\(role)-key.pem", pair.key.pkcs8PEM)
        return ("\(dir)/\(role).pem", "\(dir)/\(role)-key.pem")
    }

    var caPath: String { "\(dir)/ca.pem" }

    /// A client TLS context for the binary protocol; an agent's `name` is its node name.
    func clientContext(_ role: NetobsRole, name: String) throws -> TLSContext {
        let pair: Pair = try CertificateFactory.issue(CertificateRequest(commonName: name, usage: .client, role: role), by: ca)
        return try TLSContext(configuration: .client(trustRoots: .bytes(ca.certificate.pem),
                                                     certificateChain: .bytes(pair.certificate.pem),
                                                     privateKey: .bytes(pair.key.pkcs8PEM)))
    }

    private func write(_ name: String, _ bytes: [UInt8]) throws {
        try Data(bytes).write(to: URL(fileURLWithPath: "\(dir)/\(name)"))
    }
}

func temporaryDirectory(_ tag: String) -> String {
    let path = NSTemporaryDirectory() + "netobs-\(tag)-\(UUID().uuidString)"
    try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

/// A controller (binary protocol, TLS) with its HTTP endpoint.
struct Running {
    let controller: Controller
    let http: HTTPServer
    let log: LogLines

    static func start(_ pki: FilePKI, security: (FilePKI) throws -> HTTPSecurity,
                      configure: (inout HTTPServer.Configuration) -> Void = { _ in },
                      controller configureController: (inout Controller.Configuration) -> Void = { _ in }) async throws -> Running {
        let log = LogLines()
        var config = Controller.Configuration(host: "127.0.0.1", port: 0, dataDirectory: temporaryDirectory("data"),
                                              tls: try pki.serverContext())
        configureController(&config)
        let controller = try await Controller.start(config, log: ControllerLog(log.sink))
        var httpConfig = HTTPServer.Configuration(host: "127.0.0.1", port: 0, security: try security(pki))
        // The dashboard is one more hub subscriber; tests that count subscribers turn it on themselves.
        httpConfig.dashboard = false
        configure(&httpConfig)
        let http = try await HTTPServer.start(httpConfig, controller: controller, log: log.sink)
        return Running(controller: controller, http: http, log: log)
    }

    func stop() async {
        await http.stop()
        await controller.stop()
    }
}

final class LogLines: @unchecked Sendable {
    private let lock = NSLock()
    private var _lines: [String] = []
    var lines: [String] { lock.withLock { _lines } }
    func add(_ line: String) { lock.withLock { _lines.append(line) } }
    var sink: @Sendable (String) -> Void { { [self] in add($0) } }
}

/// Polls `condition` every 20 ms for up to `seconds`.
func eventually(_ seconds: Double = 15, _ condition: () async throws -> Bool) async rethrows -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if try await condition() { return true }
        try? await Task.sleep(for: .milliseconds(20))
    }
    return try await condition()
}

/// A child process with its output in a file, so a test can read a stream while it runs.
final class Child: @unchecked Sendable {
    let process = Process()
    let outPath: String
    let errPath: String

    init(_ executable: String, _ arguments: [String]) throws {
        outPath = temporaryDirectory("child") + "/out"
        errPath = outPath + ".err"
        _ = FileManager.default.createFile(atPath: outPath, contents: nil)
        _ = FileManager.default.createFile(atPath: errPath, contents: nil)
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.standardOutput = FileHandle(forWritingAtPath: outPath)
        process.standardError = FileHandle(forWritingAtPath: errPath)
        try process.run()
    }

    var output: String { (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? "" }
    var errors: String { (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? "" }
    var lines: [String] { output.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) }

    func wait() -> Int32 {
        process.waitUntilExit()
        return process.terminationStatus
    }

    /// SIGKILL: the test process may have SIGTERM ignored, and children inherit that.
    func stop() {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }

    /// Runs to the end on a thread of its own; (status, stdout, stderr). Waiting must not block the
    /// cooperative pool: the server under test runs its handlers there.
    static func run(_ executable: String, _ arguments: [String], stdin: String? = nil) async throws -> (Int32, String, String) {
        try await withCheckedThrowingContinuation { done in
            Thread.detachNewThread {
                done.resume(with: Result { try runBlocking(executable, arguments, stdin: stdin) })
            }
        }
    }

    private static func runBlocking(_ executable: String, _ arguments: [String], stdin: String?) throws -> (Int32, String, String) {
        let child = Process()
        child.executableURL = URL(fileURLWithPath: executable)
        child.arguments = arguments
        let out = Pipe(), err = Pipe(), input = Pipe()
        child.standardOutput = out
        child.standardError = err
        child.standardInput = input
        try child.run()
        if let stdin { input.fileHandleForWriting.write(Data(stdin.utf8)) }
        try input.fileHandleForWriting.close()
        let o = out.fileHandleForReading.readDataToEndOfFile()
        let e = err.fileHandleForReading.readDataToEndOfFile()
        child.waitUntilExit()
        return (child.terminationStatus, String(decoding: o, as: UTF8.self), String(decoding: e, as: UTF8.self))
    }
}

/// curl against the endpoint, with a client certificate when given.
struct Curl {
    let pki: FilePKI
    let port: Int
    var client: (cert: String, key: String)?
    var plaintext = false

    func arguments(_ path: String, extra: [String] = []) -> [String] {
        var args = ["-sS", "--max-time", "20"] + extra
        if plaintext {
            args.append("http://127.0.0.1:\(port)\(path)")
        } else {
            args += ["--cacert", pki.caPath]
            if let client { args += ["--cert", client.cert, "--key", client.key] }
            args.append("https://127.0.0.1:\(port)\(path)")
        }
        return args
    }

    /// (exit status, HTTP status or 0, body, stderr)
    func get(_ path: String, headers: [String] = []) async throws -> (exit: Int32, status: Int, body: String, error: String) {
        let marker = "\n--status:"
        let (exit, out, err) = try await Child.run("/usr/bin/curl", arguments(path, extra: ["-w", "\(marker)%{http_code}"] + headers.flatMap { ["-H", $0] }))
        guard let r = out.range(of: marker, options: .backwards) else { return (exit, 0, out, err) }
        return (exit, Int(out[r.upperBound...]) ?? 0, String(out[..<r.lowerBound]), err)
    }

    /// A streaming GET (curl -N) running until stopped.
    func stream(_ path: String, headers: [String] = []) throws -> Child {
        try Child("/usr/bin/curl", arguments(path, extra: ["-N", "--max-time", "60"] + headers.flatMap { ["-H", $0] }))
    }
}
