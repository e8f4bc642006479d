#if canImport(Glibc)
import Glibc
#endif

/// Writes whole strings or byte buffers to a file descriptor (stdio's globals are not
/// concurrency-safe).
enum FDWriter {
    /// False when the descriptor is closed or broken.
    @discardableResult
    static func write(_ text: String, to fd: Int32) -> Bool {
        var text = text
        return text.withUTF8 { write(UnsafeRawBufferPointer($0), to: fd) }
    }

    @discardableResult
    static func write(_ bytes: [UInt8], to fd: Int32) -> Bool {
        bytes.withUnsafeBytes { write($0, to: fd) }
    }

    private static func write(_ buf: UnsafeRawBufferPointer, to fd: Int32) -> Bool {
        guard buf.count > 0 else { return true }
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
