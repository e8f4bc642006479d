import Foundation

/// TLS in front of a plain-HTTP stand-in, done by Python's ssl module (OpenSSL, not our TLS
/// code): it presents `certificate` and asks for no client certificate, as the API server does
/// for clients that bring a bearer token. Per connection it reports the first byte received
/// (22 = a TLS handshake record), then "handshake-ok <version> client-certificate <bool>" or
/// "handshake-failed <reason>".
final class TLSTerminator: @unchecked Sendable {
    private let process = Process()
    private let output = Pipe()
    private let lock = NSLock()
    private var text = ""
    private let directory = NSTemporaryDirectory() + "netobs-terminator-\(UUID().uuidString)"
    private(set) var port = 0

    init(certificate: [UInt8], key: [UInt8], backendPort: Int) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try Data(certificate).write(to: URL(fileURLWithPath: directory + "/server.crt"))
        try Data(key).write(to: URL(fileURLWithPath: directory + "/server.key"))
        process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        process.arguments = ["-c", Self.script, directory + "/server.crt", directory + "/server.key", String(backendPort)]
        process.standardOutput = output
        output.fileHandleForReading.readabilityHandler = { [weak self] handle in
            let data = handle.availableData
            self?.lock.withLock { self?.text += String(decoding: data, as: UTF8.self) }
        }
        try process.run()
        let deadline = Date().addingTimeInterval(10)
        while port == 0 && Date() < deadline {
            if let line = lines.first(where: { $0.hasPrefix("port ") }) { port = Int(line.dropFirst(5)) ?? 0 }
            Thread.sleep(forTimeInterval: 0.02)
        }
        guard port > 0 else { throw Failed(output: lines.joined(separator: "\n")) }
    }

    var lines: [String] { lock.withLock { text.split(separator: "\n").map(String.init) } }

    func stop() {
        if process.isRunning {
            // SIGKILL: the child inherits the test runner's signal mask, SIGTERM blocked.
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        output.fileHandleForReading.readabilityHandler = nil
        try? FileManager.default.removeItem(atPath: directory)
    }

    deinit { stop() }

    struct Failed: Error { let output: String }

    private static let script = """
        import select, socket, ssl, sys, threading
        cert, key, backend = sys.argv[1], sys.argv[2], int(sys.argv[3])
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(cert, key)
        listener = socket.create_server(('127.0.0.1', 0))
        lock = threading.Lock()
        def say(*words):
            with lock:
                print(*words, flush=True)
        say('port', listener.getsockname()[1])
        def serve(raw):
            first = raw.recv(1, socket.MSG_PEEK)
            say('first-byte', first[0] if first else -1)
            try:
                tls = ctx.wrap_socket(raw, server_side=True)
            except (ssl.SSLError, OSError) as e:
                say('handshake-failed', e)
                raw.close()
                return
            say('handshake-ok', tls.version(), 'client-certificate', tls.getpeercert(binary_form=True) is not None)
            back = socket.create_connection(('127.0.0.1', backend))
            tls.settimeout(0.2)
            try:
                while True:
                    ready = [tls] if tls.pending() else select.select([tls, back], [], [])[0]
                    if tls in ready:
                        try:
                            data = tls.recv(65536)
                        except (socket.timeout, ssl.SSLWantReadError):
                            data = None
                        if data == b'':
                            break
                        if data:
                            back.sendall(data)
                    if back in ready:
                        data = back.recv(65536)
                        if not data:
                            break
                        tls.sendall(data)
            except (ssl.SSLError, OSError):
                pass
            finally:
                back.close()
                tls.close()
        while True:
            conn, _ = listener.accept()
            threading.Thread(target=serve, args=(conn,), daemon=True).start()
        """
}
