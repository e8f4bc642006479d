import Foundation

/// A value behind an `NSLock`. Labs are touched from test tasks, signal handlers and the
/// atexit hook, so every piece of mutable state lives in one of these (the demo uses it too).
public final class Locked<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Value

    public init(_ value: Value) { self.value = value }

    public func withLock<R>(_ body: (inout Value) throws -> R) rethrows -> R {
        lock.lock()
        defer { lock.unlock() }
        return try body(&value)
    }
}
