import NIOCore

/// Timing of the list/watch loops. The defaults suit a real cluster; tests shorten them.
public struct KubeWatchSettings: Sendable {
    /// A list that sends nothing for this long is abandoned and retried.
    public var listTimeout: TimeAmount = .seconds(60)
    /// Asked of the server: end each watch after this long (it is then resumed at once).
    public var watchTimeoutSeconds = 300
    /// A watch that sends nothing (not even a bookmark) for this long is presumed dead.
    public var watchIdleTimeout: TimeAmount = .seconds(330)
    /// Reconnect delays: doubling from `initialBackoff` up to `maxBackoff`, with jitter.
    public var initialBackoff: Duration = .milliseconds(250)
    public var maxBackoff: Duration = .seconds(30)
    /// Items per list page.
    public var pageSize = 500

    public init() {}
}

/// What the watchers did, for logs and tests.
public struct KubeWatchCounters: Sendable, Equatable {
    public var lists = 0
    /// Relists forced by 410 Gone (the resourceVersion was compacted away).
    public var relistsOnGone = 0
    public var watchesStarted = 0
    /// Watches that ended with an error (dropped connection, refused, idle, bad status).
    public var watchFailures = 0
    public var events = 0
    public var bookmarks = 0
    /// Objects or event lines that could not be decoded (skipped).
    public var badObjects = 0

    public init() {}
}

/// Exponential backoff with jitter (±25%), reset after a success.
struct Backoff {
    let initial: Duration
    let max: Duration
    private var attempt = 0

    init(initial: Duration, max: Duration) {
        self.initial = initial
        self.max = max
    }

    mutating func next() -> Duration {
        let base = min(initial * (1 << min(attempt, 20)), max)
        attempt += 1
        return base * Double.random(in: 0.75...1.25)
    }

    mutating func reset() { attempt = 0 }
}
