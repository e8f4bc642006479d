/// Errors from the kernel layer, with what libbpf and the verifier said.
public struct KernelError: Error, CustomStringConvertible, Sendable {
    public let operation: String
    public let errno: Int32
    /// libbpf's messages during the operation, including the verifier log on a rejected load.
    public let log: String

    public init(_ operation: String, errno: Int32, log: String = "") {
        self.operation = operation
        self.errno = errno
        self.log = log
    }

    /// The program libbpf names as the one that failed to load, if the log says.
    public var failedProgram: String? {
        for line in log.split(separator: "\n") {
            guard let start = line.firstRange(of: "prog '"), let end = line[start.upperBound...].firstIndex(of: "'") else {
                continue
            }
            let rest = line[line.index(after: end)...]
            if rest.contains("failed to load") || rest.contains("load failed") {
                return String(line[start.upperBound..<end])
            }
        }
        return nil
    }

    /// The first line of the description: what failed and the errno, without the log.
    public var summary: String { "\(operation) failed: \(errnoName(errno))" }

    public var description: String {
        var text = "\(operation) failed: \(errnoName(errno))"
        if !log.isEmpty { text += "\n" + log }
        return text
    }
}

func errnoName(_ code: Int32) -> String {
    let positive = code < 0 ? -code : code
    return String(cString: strerror(positive)) + " (errno \(positive))"
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
