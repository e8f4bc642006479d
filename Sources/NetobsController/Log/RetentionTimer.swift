import NIOCore
import NIOPosix

/// Retention passes that no append triggers: the age bound (an idle agent's log ages without
/// appends) and the byte bound right after start. On the disk pool, like the appends.
enum RetentionTimer {
    static let interval = TimeAmount.seconds(30)

    static func start(store: AgentLogStore, on loop: EventLoop, pool: NIOThreadPool) -> RepeatedTask? {
        guard store.retention.maxBytes != nil || store.retention.maxAgeNs != nil else { return nil }
        let first: TimeAmount = .zero
        return loop.scheduleRepeatedTask(initialDelay: first, delay: interval) { _ in
            pool.submit { state in
                if state == .active { store.enforceRetention() }
            }
        }
    }
}
