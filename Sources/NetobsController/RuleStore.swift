import NetobsRecords
import NetobsWire
import NetobsWireNIO
import Synchronization

/// The pushed rule sets under `DATA/rules/`, one file per version (`<version>.ruleset`, the RuleSet
/// payload), each written durably before it is acknowledged or sent. The highest version is the
/// one in force; older ones stay as history.
public final class RuleStore: Sendable {
    public struct Refused: Error, CustomStringConvertible {
        public let description: String
    }

    private let directory: String
    private let latest = Mutex<RuleSet?>(nil)

    public init(directory: String) throws {
        self.directory = directory + "/rules"
        try DurableFile.makeDirectory(self.directory)
        let versions = try DurableFile.list(self.directory).compactMap { name -> UInt64? in
            guard name.hasSuffix(".ruleset") else { return nil }
            return UInt64(name.dropLast(".ruleset".count))
        }
        if let newest = versions.max() {
            var r = ByteReader(try DurableFile.read(path(newest)))
            let set = try RuleSet(from: &r)
            try r.expectEnd("rule_set")
            latest.withLock { $0 = set }
        }
    }

    /// The rule set in force, if one was ever pushed.
    public var current: RuleSet? { latest.withLock { $0 } }

    /// Validates `pushed` (agents must be able to apply it exactly), stores it as the next
    /// version and returns it with that version. Blocks on fsync.
    public func store(_ pushed: RuleSet) throws -> RuleSet {
        do {
            _ = try CollectionRules(pushed)
        } catch {
            throw Refused(description: "rule set refused: \(error.message)")
        }
        return try latest.withLock { latest in
            var set = pushed
            set.version = (latest?.version ?? 0) + 1
            var w = ByteWriter()
            try set.encode(into: &w)
            try DurableFile.replace(path(set.version), with: w.bytes)
            latest = set
            return set
        }
    }

    private func path(_ version: UInt64) -> String { directory + "/\(version).ruleset" }
}
