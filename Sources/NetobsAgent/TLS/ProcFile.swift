#if canImport(Glibc)
import Glibc
#endif

/// A /proc file read whole. procfs reports size 0 and hands out a page per read; a reader
/// that trusts the size, or stops at one read, gets the first 4 KiB of a process's maps.
enum ProcFile {
    static func read(_ path: String) -> String? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var page = [UInt8](repeating: 0, count: 65_536)
        while true {
            let n = page.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                return nil
            }
            if n == 0 { break }
            bytes.append(contentsOf: page[0..<n])
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
