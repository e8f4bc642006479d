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
