import Foundation
import NodeLab

/// Cleanup that must also happen when the process exits through `exit()` rather than by
/// returning: NodeLab's SIGINT/SIGTERM handler tears the labs down and calls exit(), and only
/// atexit hooks run after that. Registered actions run once, newest first.
enum ExitCleanup {
    private static let actions = Locked<[(id: Int, run: @Sendable () -> Void)]>([])
    private static let nextID = Locked(0)
    private static let installed = Locked(false)

    @discardableResult
    static func register(_ action: @escaping @Sendable () -> Void) -> Int {
        installed.withLock { done in
            if !done { atexit { ExitCleanup.runAll() } }
            done = true
        }
        let id = nextID.withLock { n in defer { n += 1 }; return n }
        actions.withLock { $0.append((id, action)) }
        return id
    }

    static func unregister(_ id: Int) {
        actions.withLock { $0.removeAll { $0.id == id } }
    }

    static func runAll() {
        let pending = actions.withLock { list in defer { list = [] }; return list }
        pending.reversed().forEach { $0.run() }
    }
}
