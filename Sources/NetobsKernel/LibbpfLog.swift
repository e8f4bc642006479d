import CLibbpf
import Synchronization

/// Collects libbpf's messages so that a failing operation can return them (the verifier
/// log among them) instead of printing to stderr behind the caller's back.
enum LibbpfLog {
    private static let lines = Mutex<[String]>([])
    private static let installed = Mutex(false)

    static func install() {
        installed.withLock { done in
            guard !done else { return }
            netobs_libbpf_install_print { level, line in
                guard let line else { return }
                // Debug chatter is dropped; warnings and info (verifier logs) are kept.
                guard level <= Int32(LIBBPF_INFO.rawValue) else { return }
                LibbpfLog.append(String(cString: line))
            }
            done = true
        }
    }

    private static func append(_ line: String) {
        lines.withLock { buffer in
            buffer.append(line)
            if buffer.count > 4096 { buffer.removeFirst(buffer.count - 4096) }
        }
    }

    /// Runs `body` and returns libbpf's messages printed meanwhile along with its result.
    /// Messages of concurrent operations may interleave; loads are rare and serialized by callers.
    static func capturing<T>(_ body: () throws -> T) rethrows -> (T, String) {
        install()
        lines.withLock { $0.removeAll() }
        let result = try body()
        let text = lines.withLock { buffer in
            defer { buffer.removeAll() }
            return buffer.joined()
        }
        return (result, text)
    }
}
