#if canImport(Glibc)
import Glibc
#endif

/// Where PEM data comes from: a file (read when the context is made, named in errors) or
/// bytes already in memory (e.g. from a Kubernetes Secret).
public enum PEMSource: Sendable, Hashable, CustomStringConvertible {
    case file(String)
    case bytes([UInt8])

    /// How errors name this source; bytes are never echoed (they may be a key).
    public var description: String {
        switch self {
        case .file(let path): return path
        case .bytes(let bytes): return "<\(bytes.count) bytes of PEM>"
        }
    }

    /// The PEM bytes. `what` names the item for the error ("CA bundle", "key").
    func load(_ what: String) throws -> [UInt8] {
        switch self {
        case .bytes(let bytes): return bytes
        case .file(let path): return try FileBytes.read(path, what: what)
        }
    }
}

/// Small POSIX file reading, so the library needs no Foundation.
public enum FileBytes {
    /// `limit`: a file longer than this is refused without reading it all.
    public static func read(_ path: String, what: String, limit: Int = .max) throws -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            throw TLSError(.configuration, "cannot read \(what) \(path): \(String(cString: strerror(errno)))")
        }
        defer { close(fd) }
        var result: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16384)
        while true {
            let n = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw TLSError(.configuration, "cannot read \(what) \(path): \(String(cString: strerror(errno)))")
            }
            if n == 0 { break }
            result.append(contentsOf: chunk[0..<n])
            if result.count > limit { throw TLSError(.configuration, "\(what) \(path) is larger than \(limit) bytes") }
        }
        return result
    }
}
