#if canImport(Glibc)
import Glibc
#endif

/// Writes whole strings to a file descriptor (stdio's globals are not concurrency-safe).
enum FDWriter {
    /// False when the descriptor is closed or broken.
    @discardableResult
    static func write(_ text: String, to fd: Int32) -> Bool {
        var text = text
        return text.withUTF8 { buf in
            var offset = 0
            while offset < buf.count {
                let n = Glibc.write(fd, buf.baseAddress! + offset, buf.count - offset)
                if n < 0 {
                    if errno == EINTR { continue }
                    return false
                }
                offset += n
            }
            return true
        }
    }
}
