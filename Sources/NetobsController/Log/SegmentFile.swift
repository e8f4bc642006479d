import NetobsWireNIO
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Bytes the store has read from its segments: recovery and replay are meant to read only what
/// they need, and tests hold them to it.
final class ReadMeter: Sendable {
    private let total = Atomic<Int>(0)
    var bytes: Int { total.load(ordering: .relaxed) }
    func add(_ n: Int) { total.add(n, ordering: .relaxed) }
}

/// The last segment of an agent's log, open for appending. An append is written and
/// fdatasync'd before it returns; a write or sync that fails cuts the file back to its previous
/// size, so no part of an unacknowledged entry stays behind to be followed by the next one.
final class SegmentWriter {
    let path: String
    private let fd: Int32
    private(set) var size: Int

    /// Opens (creating) `path` and cuts it to `size` bytes: what lies past the last complete
    /// entry is a write a crash interrupted.
    init(path: String, truncatingTo size: Int) throws {
        self.path = path
        let fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw DurableFile.Failure("cannot open", path) }
        guard ftruncate(fd, off_t(size)) == 0, lseek(fd, off_t(size), SEEK_SET) >= 0 else {
            let failure = DurableFile.Failure("cannot truncate", path)
            close(fd)
            throw failure
        }
        self.fd = fd
        self.size = size
    }

    deinit { close(fd) }

    func appendDurably(_ bytes: [UInt8]) throws {
        do {
            try bytes.withUnsafeBytes { buf in
                var offset = 0
                while offset < buf.count {
                    let n = write(fd, buf.baseAddress! + offset, buf.count - offset)
                    if n < 0 { if errno == EINTR { continue }; throw DurableFile.Failure("cannot write", path) }
                    offset += n
                }
            }
            // After a failed sync the kernel may have dropped the dirty pages and report success
            // next time: the entry is cut and written again later, never trusted.
            guard fdatasync(fd) == 0 else { throw DurableFile.Failure("cannot fsync", path) }
        } catch {
            _ = ftruncate(fd, off_t(size))
            _ = lseek(fd, off_t(size), SEEK_SET)
            throw error
        }
        size += bytes.count
    }
}

/// Reads of a segment at offsets (pread), each counted by a meter.
final class SegmentFile {
    let path: String
    private let fd: Int32
    private let meter: ReadMeter

    init(path: String, meter: ReadMeter) throws {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw DurableFile.Failure("cannot open", path) }
        self.path = path
        self.fd = fd
        self.meter = meter
    }

    deinit { close(fd) }

    /// Up to `count` bytes at `offset` appended to `buffer`; fewer only at the end of the file.
    func read(at offset: Int, count: Int, into buffer: inout [UInt8]) throws {
        var done = 0
        let start = buffer.count
        buffer.append(contentsOf: repeatElement(0, count: count))
        defer { buffer.removeLast(count - done) }
        while done < count {
            let n = buffer.withUnsafeMutableBytes { raw in
                pread(fd, raw.baseAddress! + start + done, count - done, off_t(offset + done))
            }
            if n < 0 { if errno == EINTR { continue }; throw DurableFile.Failure("cannot read", path) }
            if n == 0 { break }
            done += n
        }
        meter.add(done)
    }
}

/// Size and modification time of files, and the few directory operations segments need.
enum SegmentFS {
    struct Info { var bytes: Int; var modifiedNs: UInt64 }

    static func info(_ path: String) -> Info? {
        var st = stat()
        guard stat(path, &st) == 0 else { return nil }
        return Info(bytes: Int(st.st_size),
                    modifiedNs: UInt64(max(0, st.st_mtim.tv_sec)) * 1_000_000_000 + UInt64(max(0, st.st_mtim.tv_nsec)))
    }

    static func rename(_ from: String, _ to: String) throws {
        guard Glibc.rename(from, to) == 0 else { throw DurableFile.Failure("cannot rename to \(to):", from) }
    }

    /// Size of the file system holding `path`.
    static func volumeBytes(_ path: String) -> UInt64? {
        var st = statvfs()
        guard statvfs(path, &st) == 0 else { return nil }
        return UInt64(st.f_blocks) * UInt64(st.f_frsize)
    }

    /// Bytes an unprivileged writer may still use on the file system holding `path`.
    static func freeBytes(_ path: String) -> UInt64? {
        var st = statvfs()
        guard statvfs(path, &st) == 0 else { return nil }
        return UInt64(st.f_bavail) * UInt64(st.f_frsize)
    }
}
