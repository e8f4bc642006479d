#if canImport(Glibc)
import Glibc
#endif

/// Writes files atomically with a chosen mode: a temporary file created with that mode (so a
/// key is never readable by others, not even for a moment), then renamed into place.
enum SecureFile {
    static func exists(_ path: String) -> Bool { access(path, F_OK) == 0 }

    static func write(_ bytes: [UInt8], to path: String, mode: mode_t) throws {
        let temporary = "\(path).tmp-\(getpid())"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
        guard fd >= 0 else { throw error("cannot create", temporary) }
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else {
                let failure = error("cannot write", temporary)
                close(fd)
                unlink(temporary)
                throw failure
            }
            offset += n
        }
        // fchmod: the umask may have narrowed the mode given to open.
        guard fchmod(fd, mode) == 0, fsync(fd) == 0, close(fd) == 0 else {
            unlink(temporary)
            throw error("cannot write", temporary)
        }
        guard rename(temporary, path) == 0 else {
            let failure = error("cannot rename to", path)
            unlink(temporary)
            throw failure
        }
    }

    static func makeDirectory(_ path: String, mode: mode_t = 0o755) throws {
        var info = stat()
        if stat(path, &info) == 0 {
            guard info.st_mode & S_IFMT == S_IFDIR else { throw TLSError(.configuration, "\(path) is not a directory") }
            return
        }
        guard mkdir(path, mode) == 0 || errno == EEXIST else { throw error("cannot create directory", path) }
    }

    private static func error(_ what: String, _ path: String) -> TLSError {
        TLSError(.configuration, "\(what) \(path): \(String(cString: strerror(errno)))")
    }
}
