import Foundation

/// `netobs controller` as a child process on a free loopback port.
final class ControllerProcess: @unchecked Sendable {
    let process: Process
    let port: Int
    var sampler: ProcessSampler { ProcessSampler(pid: process.processIdentifier) }

    private init(process: Process, port: Int) {
        self.process = process
        self.port = port
    }

    /// `data`: the data directory (default WORK/data); `extra`: more `netobs controller` arguments.
    static func start(binary: String, work: String, data: String? = nil, extra: [String] = []) async throws -> ControllerProcess {
        let port = try freePort()
        let p = Process()
        p.executableURL = URL(fileURLWithPath: binary)
        p.arguments = ["controller", "--listen", "127.0.0.1:\(port)", "--data", data ?? work + "/data", "--certs", work + "/certs"] + extra
        _ = FileManager.default.createFile(atPath: work + "/controller.log", contents: nil)
        let log = FileHandle(forWritingAtPath: work + "/controller.log")
        p.standardOutput = log
        p.standardError = log
        try p.run()
        let started = ControllerProcess(process: p, port: port)
        try await until(30, "the controller to listen") { !p.isRunning || canConnect(port) }
        guard p.isRunning else {
            throw BenchError("the controller exited: " + ((try? String(contentsOfFile: work + "/controller.log", encoding: .utf8)) ?? ""))
        }
        return started
    }

    func stop() {
        guard process.isRunning else { return }
        process.terminate()
        process.waitUntilExit()
    }

    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var addr = loopback(port: 0)
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let ok = withUnsafeMutablePointer(to: &addr) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0
            }
        }
        guard ok else { throw BenchError("no free port") }
        return Int(UInt16(bigEndian: addr.sin_port))
    }

    private static func canConnect(_ port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var addr = loopback(port: port)
        return withUnsafePointer(to: &addr) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
    }

    private static func loopback(port: Int) -> sockaddr_in {
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = UInt16(port).bigEndian
        addr.sin_addr.s_addr = UInt32(0x7f00_0001).bigEndian
        return addr
    }
}
