import NetobsTLS
import NetobsWire
import NetobsWireNIO
import Synchronization

/// Program bundles under `DATA/programs/`: each pushed bundle as `<n>.bundle` (n counts pushes;
/// the payload exactly as signed), and per kernel object (ProgramBundle.knownObjects) a file
/// `active-<name>` naming the n every agent should run for that object (the last rollout of it
/// that completed). A failed rollout leaves the pointer where it was.
///
/// Controllers before objects kept one pointer, `active`; it is read as the active `l4` (the only
/// object then) and rewritten as `active-l4` when the registry opens.
public final class ProgramRegistry: Sendable {
    public typealias Entry = (n: Int, bundle: ProgramBundle)

    /// `activate` of a bundle whose name is no object agents load (the push should have refused it).
    public struct UnknownObject: Error, CustomStringConvertible {
        public let name: String
        public var description: String {
            "program bundle names object '\(name)'; agents load: \(ProgramBundle.knownObjects.joined(separator: ", "))"
        }
    }

    private struct State {
        var next: Int = 1
        var actives: [String: Entry] = [:]
    }

    private let directory: String
    private let state = Mutex(State())
    /// What opening the registry migrated, for the controller's log; nil when nothing was.
    let migration: String?

    public init(directory: String) throws {
        self.directory = directory + "/programs"
        try DurableFile.makeDirectory(self.directory)
        let numbers = try DurableFile.list(self.directory).compactMap { name -> Int? in
            name.hasSuffix(".bundle") ? Int(name.dropLast(".bundle".count)) : nil
        }
        var s = State(next: (numbers.max() ?? 0) + 1)
        for name in ProgramBundle.knownObjects {
            if let n = Self.pointer(at: self.directory + "/" + Self.activeFile(name)) {
                s.actives[name] = (n, try BundleSignature.decode(try DurableFile.read(Self.path(self.directory, n))))
            }
        }
        migration = try Self.migrateLegacy(in: self.directory, into: &s.actives)
        state.withLock { $0 = s }
    }

    /// The bundle agents should run for object `name`, and its registry number.
    public func active(named name: String) -> Entry? { state.withLock { $0.actives[name] } }

    /// Every object's active bundle, sorted by object name.
    public var actives: [Entry] {
        state.withLock { $0.actives.sorted { $0.key < $1.key }.map(\.value) }
    }

    /// Stores a verified bundle durably; returns its number. Blocks on fsync.
    public func store(_ bundle: ProgramBundle) throws -> Int {
        try state.withLock { s in
            let n = s.next
            try DurableFile.replace(Self.path(directory, n), with: try BundleSignature.encode(bundle))
            s.next += 1
            return n
        }
    }

    /// Marks bundle `n` as the one every agent runs for the object the bundle names (its rollout
    /// completed). Blocks on fsync.
    public func activate(_ n: Int, _ bundle: ProgramBundle) throws {
        // The name becomes part of a path: only the known objects get there.
        guard ProgramBundle.knownObjects.contains(bundle.name) else { throw UnknownObject(name: bundle.name) }
        try state.withLock { s in
            try DurableFile.replace(directory + "/" + Self.activeFile(bundle.name), with: Array("\(n)\n".utf8))
            s.actives[bundle.name] = (n, bundle)
        }
    }

    static func activeFile(_ name: String) -> String { "active-" + name }

    private static func path(_ directory: String, _ n: Int) -> String { directory + "/\(n).bundle" }

    private static func pointer(at path: String) -> Int? {
        guard let text = try? DurableFile.read(path) else { return nil }
        return Int(String(decoding: text, as: UTF8.self).trimmingSpaces)
    }

    /// An old controller's `active` becomes `active-l4` (or the pointer of the object its bundle
    /// names, should that be another known one). Newer controllers delete `active` once migrated,
    /// so a file still there was written since by an old controller and wins over `active-l4`.
    /// The new pointer is durable before the old one goes: a crash in between migrates again.
    private static func migrateLegacy(in directory: String, into actives: inout [String: Entry]) throws -> String? {
        let legacy = directory + "/active"
        guard DurableFile.exists(legacy) else { return nil }
        guard let n = pointer(at: legacy) else {
            try DurableFile.remove(legacy)
            return "removed \(legacy), which named no bundle"
        }
        let bundle = try BundleSignature.decode(try DurableFile.read(path(directory, n)))
        let name = ProgramBundle.knownObjects.contains(bundle.name) ? bundle.name : "l4"
        try DurableFile.replace(directory + "/" + activeFile(name), with: Array("\(n)\n".utf8))
        try DurableFile.remove(legacy)
        try DurableFile.syncDirectory(of: legacy)
        actives[name] = (n, bundle)
        return "\(legacy) (from an older controller) is now \(activeFile(name)): bundle #\(n), "
            + "\(bundle.name) \(bundle.version)"
    }
}

extension String {
    var trimmingSpaces: String {
        String(drop { $0 == " " || $0 == "\n" }.reversed().drop { $0 == " " || $0 == "\n" }.reversed())
    }
}
