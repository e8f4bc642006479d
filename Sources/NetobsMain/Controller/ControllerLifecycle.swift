import Logging
import NetobsController
import NetobsTopology
import ServiceLifecycle
import Synchronization

/// `netobs controller`'s start and stop order on swift-service-lifecycle: a ServiceGroup turns
/// SIGINT and SIGTERM into a graceful shutdown from before the first part starts, so a signal
/// that comes while the parts start is not lost; the parts then stop in the reverse order of
/// their start (analysis, probes, HTTP, bootstrap listener, controller, topology source).
enum ControllerLifecycle {
    /// Runs `start` once the group handles signals; returns when a signal stopped everything,
    /// throws what `start` threw (after stopping what had started).
    static func run(_ parts: RunningParts, start: @escaping @Sendable () async throws -> Void) async throws {
        let running = AsyncStream<Void>.makeStream()
        let group = ServiceGroup(configuration: .init(
            services: [StopOnShutdown(parts: parts, running: running.continuation)],
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: Logger(label: "netobs controller")))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            for await _ in running.stream { break }  // signals are handled from here on
            do {
                try await start()
            } catch {
                await group.triggerGracefulShutdown()
                try? await tasks.waitForAll()
                throw error
            }
            try await tasks.waitForAll()
        }
    }

    /// The group's one service: says it runs, waits for the graceful shutdown, stops the parts.
    private struct StopOnShutdown: Service, CustomStringConvertible {
        let parts: RunningParts
        let running: AsyncStream<Void>.Continuation
        var description: String { "controller parts" }

        func run() async throws {
            running.yield()
            running.finish()
            try? await gracefulShutdown()
            ControllerLog.stderr.info("stopping")
            await parts.stopAll()
        }
    }
}

/// What `netobs controller` started, each with how it stops; stopped in the reverse order of
/// their start. A part adopted once stopping began is stopped at once.
final class RunningParts: Sendable {
    private struct State {
        var stops: [@Sendable () async -> Void] = []
        var stopping = false
    }

    private let state = Mutex(State())

    /// The topology source (started before the rest) stops last.
    init(topologySource: (any TopologySource)?) {
        if let topologySource { state.withLock { $0.stops.append { topologySource.stop() } } }
    }

    func adopt<Part: Sendable>(_ part: Part, stop: @escaping @Sendable (Part) async -> Void) async {
        let late = state.withLock { s -> Bool in
            if !s.stopping { s.stops.append { await stop(part) } }
            return s.stopping
        }
        if late { await stop(part) }
    }

    func stopAll() async {
        let stops = state.withLock { s -> [@Sendable () async -> Void] in
            s.stopping = true
            defer { s.stops = [] }
            return s.stops
        }
        for stop in stops.reversed() { await stop() }
    }
}
