import NetobsTLS
import Synchronization

/// The TLS context a client's next connection uses, replaceable while it runs: an agent that
/// renews its certificate puts the new context here, and its reconnecting client moves its
/// session over to it (see `ReconnectingClient`). Empty while an agent still waits for its
/// first certificate.
public final class TLSContextSlot: Sendable {
    private let state: Mutex<(context: TLSContext?, observers: [@Sendable () -> Void])>

    public init(_ context: TLSContext? = nil) { state = Mutex((context, [])) }

    public var current: TLSContext? { state.withLock { $0.context } }

    /// Replaces the context (nil: none usable, e.g. the certificate expired) and tells the observers.
    public func set(_ context: TLSContext?) {
        let observers = state.withLock { state in
            state.context = context
            return state.observers
        }
        for observer in observers { observer() }
    }

    /// `observer` runs (on the thread of `set`) after each replacement.
    func observe(_ observer: @escaping @Sendable () -> Void) {
        state.withLock { $0.observers.append(observer) }
    }
}
