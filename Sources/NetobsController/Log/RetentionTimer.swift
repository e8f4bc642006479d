import NIOCore
import NIOPosix

/// Retention passes that no append triggers: the age bound (an idle agent's log ages without
/// appends), the byte bound right after start, and batches published after the append that
/// found them unpublished (on a full disk no append comes to try again). On the disk pool, like
/// the appends; a pass with nothing to drop only looks at each agent's oldest segment.
enum RetentionTimer {
    static let interval = TimeAmount.seconds(1)

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
