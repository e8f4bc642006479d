#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Foundation
import Dispatch

/// Every live lab of this process, so that a failing test, Ctrl-C, SIGTERM (a CI timeout)
/// or a plain exit still tears them down. Only SIGKILL and crashes escape; the next
/// `NodeLab.init` removes those leftovers (their owner pid is dead).
enum CleanupRegistry {
    private static let labs = Locked<[ObjectIdentifier: NodeLab]>([:])
    private static let installed = Locked<[any DispatchSourceSignal]?>(nil)   // keeps the signal sources alive
    private static let exiting = Locked(false)

    /// True from the moment a SIGINT/SIGTERM/SIGHUP arrived: the labs are being torn down and
    /// the process is about to exit with 128 + signal.
    static var isExiting: Bool { exiting.withLock { $0 } }

    static func register(_ lab: NodeLab) {
        installOnce()
        labs.withLock { $0[ObjectIdentifier(lab)] = lab }
    }

    static func unregister(_ lab: NodeLab) {
        labs.withLock { _ = $0.removeValue(forKey: ObjectIdentifier(lab)) }
    }

    /// Tears down every registered lab (each teardown is idempotent and serialised per lab).
    static func teardownAll() {
        let live = labs.withLock { Array($0.values) }
        live.forEach { $0.teardown() }
    }

    /// Signal sources for SIGINT/SIGTERM/SIGHUP plus an atexit hook, once per process.
    /// The default action is set to SIG_IGN first so the process cannot die between the signal
    /// and our handler (libdispatch on Linux then installs its own handler and forwards to us).
    private static func installOnce() {
        installed.withLock { sources in
            guard sources == nil else { return }
            var made: [any DispatchSourceSignal] = []
            for sig in [SIGINT, SIGTERM, SIGHUP] {
                signal(sig, SIG_IGN)
                let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
                source.setEventHandler { handle(signal: sig) }
                source.resume()
                made.append(source)
            }
            atexit { CleanupRegistry.teardownAll() }
            sources = made
        }
    }

    private static func handle(signal sig: Int32) {
        // A second signal while we clean up means "really stop now".
        let again = exiting.withLock { flag in defer { flag = true }; return flag }
        if again { _exit(128 + sig) }
        Log.info("signal \(sig): tearing down \(labs.withLock { $0.count }) lab(s)")
        teardownAll()
        exit(128 + sig)
    }
}
