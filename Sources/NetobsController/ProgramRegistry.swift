import NetobsTLS
import NetobsWire
import NetobsWireNIO
import Synchronization

/// Program bundles under `DATA/programs/`: each pushed bundle as `<n>.bundle` (n counts pushes;
/// the payload exactly as signed), and `active` naming the n every agent should run (the last
/// rollout that completed). A failed rollout leaves `active` where it was.
public final class ProgramRegistry: Sendable {
    private struct State {
        var next: Int = 1
        var active: (n: Int, bundle: ProgramBundle)?
    }

    private let directory: String
    private let state = Mutex(State())

    public init(directory: String) throws {
        self.directory = directory + "/programs"
        try DurableFile.makeDirectory(self.directory)
        let numbers = try DurableFile.list(self.directory).compactMap { name -> Int? in
            name.hasSuffix(".bundle") ? Int(name.dropLast(".bundle".count)) : nil
        }
        var s = State(next: (numbers.max() ?? 0) + 1)
        if let text = try? DurableFile.read(self.directory + "/active"),
           let n = Int(String(decoding: text, as: UTF8.self).trimmingSpaces) {
            s.active = (n, try BundleSignature.decode(try DurableFile.read(path(n))))
        }
        state.withLock { $0 = s }
    }

    /// The bundle agents should run, and its registry number.
    public var active: (n: Int, bundle: ProgramBundle)? { state.withLock { $0.active } }

    /// Stores a verified bundle durably; returns its number. Blocks on fsync.
    public func store(_ bundle: ProgramBundle) throws -> Int {
        try state.withLock { s in
            let n = s.next
            try DurableFile.replace(path(n), with: try BundleSignature.encode(bundle))
            s.next += 1
            return n
        }
    }

    /// Marks bundle `n` as the one every agent runs (its rollout completed). Blocks on fsync.
    public func activate(_ n: Int, _ bundle: ProgramBundle) throws {
        try state.withLock { s in
            try DurableFile.replace(directory + "/active", with: Array("\(n)\n".utf8))
            s.active = (n, bundle)
        }
    }

    private func path(_ n: Int) -> String { directory + "/\(n).bundle" }
}

extension String {
    var trimmingSpaces: String {
        String(drop { $0 == " " || $0 == "\n" }.reversed().drop { $0 == " " || $0 == "\n" }.reversed())
    }
}
