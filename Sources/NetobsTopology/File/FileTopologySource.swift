import Foundation
import Synchronization

/// Keeps a `TopologyStore` equal to a topology file, reloading it when it changes (its mtime,
/// size or inode: a writer replacing the file by rename is seen too). A bad or missing file
/// after a good one keeps the last good topology and is logged and counted; the next good
/// version is taken as soon as it appears.
public final class FileTopologySource: TopologySource {
    public let path: String
    public let pollInterval: Duration
    private let store: TopologyStore
    private let log: @Sendable (String) -> Void
    private let state = Mutex<(stamp: FileStamp?, task: Task<Void, Never>?, loads: Int, errors: Int)>((nil, nil, 0, 0))

    public init(path: String, store: TopologyStore, pollInterval: Duration = .seconds(1),
                log: @escaping @Sendable (String) -> Void = { _ in }) {
        self.path = path
        self.store = store
        self.pollInterval = pollInterval
        self.log = log
    }

    /// Successful loads and failed reloads so far.
    public var loads: Int { state.withLock { $0.loads } }
    public var loadErrors: Int { state.withLock { $0.errors } }

    /// Loads the file once (an error here is the caller's to report: a bad file at start is
    /// a configuration error), then watches it.
    public func start() throws {
        try reloadIfChanged(force: true)
        let task = Task { [weak self, pollInterval] in
            while !Task.isCancelled {
                try? await Task.sleep(for: pollInterval)
                guard let self, !Task.isCancelled else { return }
                do {
                    try self.reloadIfChanged(force: false)
                } catch {
                    self.state.withLock { $0.errors += 1 }
                    self.store.health.update(source: "file", resource: "file") { h in
                        h.failures += 1
                        h.up = false
                    }
                    self.log("\(error); keeping the previous topology")
                }
            }
        }
        state.withLock { $0.task = task }
    }

    public func stop() {
        state.withLock { $0.task?.cancel(); $0.task = nil }
    }

    /// Reloads when the file changed since the last load (or always with `force`).
    func reloadIfChanged(force: Bool) throws {
        guard let stamp = FileStamp(path: path) else { throw TopologyError("cannot read topology file \(path)") }
        if !force, state.withLock({ $0.stamp }) == stamp {
            store.health.update(source: "file", resource: "file", synced: true)
            return
        }
        let file = try TopologyFile.load(path: path)
        store.replace(with: file.state)
        let loads = state.withLock { s in
            s.stamp = stamp
            s.loads += 1
            return s.loads
        }
        store.health.update(source: "file", resource: "file", synced: true) { h in
            h.events += 1
            h.relists = loads - 1
        }
        log("topology file \(path): \(file.state.pods.count) pods, \(file.state.services.count) services, "
            + "\(file.state.nodes.count) nodes")
    }
}

/// What says a file changed without reading it.
struct FileStamp: Equatable {
    var mtimeNs: Int
    var size: Int
    var inode: UInt

    init?(path: String) {
        var st = stat()
        guard stat(path, &st) == 0 else { return nil }
        mtimeNs = st.st_mtim.tv_sec * 1_000_000_000 + st.st_mtim.tv_nsec
        size = Int(st.st_size)
        inode = UInt(st.st_ino)
    }
}
