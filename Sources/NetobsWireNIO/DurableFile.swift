#if canImport(Glibc)
import Glibc
#endif

/// The few POSIX file operations that durability needs (no Foundation): whole-file atomic
/// replace, directory fsync, listing (the controller's log segments have their own writer).
/// Every failure names the path and errno text, and keeps the errno.
public enum DurableFile {
    public struct Failure: Error, CustomStringConvertible, Sendable {
        public let description: String
        /// The errno of the failed call (0 when none): lets a caller tell a full disk from a bad one.
        public let code: Int32
        public init(_ what: String, _ path: String) {
            code = errno
            description = "\(what) \(path): \(String(cString: strerror(code)))"
        }
        public init(message: String) { description = message; code = 0 }
    }

    public static func makeDirectory(_ path: String) throws {
        var current = path.hasPrefix("/") ? "" : "."
        for part in path.split(separator: "/") {
            current += "/" + part
            if mkdir(current, 0o755) != 0 && errno != EEXIST { throw Failure("cannot create directory", current) }
        }
    }

    public static func exists(_ path: String) -> Bool { access(path, F_OK) == 0 }

    public static func read(_ path: String) throws -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw Failure("cannot open", path) }
        defer { close(fd) }
        var result: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n < 0 { if errno == EINTR { continue }; throw Failure("cannot read", path) }
            if n == 0 { return result }
            result.append(contentsOf: chunk[0..<n])
        }
    }

    static func writeAll(_ fd: Int32, _ bytes: [UInt8], _ path: String) throws {
        try bytes.withUnsafeBytes { buf in
            var offset = 0
            while offset < buf.count {
                let n = Glibc.write(fd, buf.baseAddress! + offset, buf.count - offset)
                if n < 0 { if errno == EINTR { continue }; throw Failure("cannot write", path) }
                offset += n
            }
        }
    }

    /// Writes `bytes` to a temporary file, fsyncs it, renames it over `path` and fsyncs the
    /// directory: after return the new content survives a crash, and a crash before leaves the old.
    /// With `durably: false` there is no fsync: readers see the old or the new content, but after
    /// a crash the file may hold either, or be empty (for hints that are checked on use).
    public static func replace(_ path: String, with bytes: [UInt8], durably: Bool = true) throws {
        let tmp = path + ".tmp"
        let fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw Failure("cannot create", tmp) }
        do {
            try writeAll(fd, bytes, tmp)
            guard !durably || fsync(fd) == 0 else { throw Failure("cannot fsync", tmp) }
        } catch {
            close(fd)
            throw error
        }
        close(fd)
        guard rename(tmp, path) == 0 else { throw Failure("cannot rename to", path) }
        if durably { try syncDirectory(of: path) }
    }

    public static func syncDirectory(of path: String) throws {
        let dir = path.split(separator: "/", omittingEmptySubsequences: false).dropLast().joined(separator: "/")
        let dirPath = dir.isEmpty ? (path.hasPrefix("/") ? "/" : ".") : dir
        let fd = open(dirPath, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw Failure("cannot open directory", dirPath) }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw Failure("cannot fsync directory", dirPath) }
    }

    public static func remove(_ path: String) throws {
        if unlink(path) != 0 && errno != ENOENT { throw Failure("cannot remove", path) }
    }

    /// Names in a directory (no "." and "..").
    public static func list(_ directory: String) throws -> [String] {
        guard let dir = opendir(directory) else { throw Failure("cannot list", directory) }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }
}
