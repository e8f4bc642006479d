import NetobsTLS
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// The tokens of `--bootstrap-token-file`, re-read when the file changes (checked at every
/// bootstrap request: a removed line revokes its token for the next request) and on `reload()`
/// (SIGHUP). At start a bad line is an error; on a re-read the lines that parse are used and each
/// bad one is logged and left out, so a typo made while revoking never keeps a token alive.
public final class BootstrapTokenStore: Sendable {
    public enum Decision: Sendable, Equatable {
        /// The token's id, and the scope that allowed the node.
        case granted(tokenId: String, scope: BootstrapToken.Scope)
        /// Why, for the agent (no secret in it); `tokenId` when the id was known, for the log.
        case refused(String, tokenId: String?)
    }

    private struct Stamp: Equatable {
        var device: UInt64, inode: UInt64, size: Int64, seconds: Int, nanoseconds: Int
    }

    private struct State {
        var tokens: [String: BootstrapToken] = [:]
        var stamp: Stamp?
    }

    public let path: String
    private let log: ControllerLog
    private let state = Mutex(State())

    /// Reads the file; throws when it cannot be read or has a bad line.
    public init(path: String, log: ControllerLog) throws {
        self.path = path
        self.log = log
        let stamp = Self.stamp(path)
        let parsed = BootstrapTokenFile.parse(try Self.read(path))
        if !parsed.errors.isEmpty {
            throw TLSError(.configuration, "bootstrap token file \(path): " + parsed.errors.joined(separator: "; "))
        }
        state.withLock { $0 = State(tokens: Dictionary(uniqueKeysWithValues: parsed.tokens.map { ($0.id, $0) }), stamp: stamp) }
    }

    public var count: Int { state.withLock { $0.tokens.count } }

    /// Re-reads the file now (SIGHUP) and logs the outcome.
    public func reload() { load(stamp: Self.stamp(path), reason: "reloaded") }

    /// Whether `token` may get a certificate for `node` at `now` (unix seconds).
    public func authorize(token: String, node: String, now: Int64) -> Decision {
        refreshIfChanged()
        guard let (id, secret) = BootstrapToken.split(token) else {
            return .refused("the bootstrap token is malformed (expected ID.SECRET: 6 and 16 characters of a-z, 0-9)", tokenId: nil)
        }
        let known = state.withLock { $0.tokens[id] }
        // The id is public (it names the token in logs); only the secret is compared in constant time.
        guard let known, ConstantTime.equal(secret, known.secret) else {
            return .refused("unknown bootstrap token (never issued, or revoked)", tokenId: known == nil ? nil : id)
        }
        if let expires = known.expires, now >= expires {
            return .refused("bootstrap token \(id) expired at \(RFC3339.format(expires))", tokenId: id)
        }
        guard known.scope.allows(node) else {
            return .refused("bootstrap token \(id) is limited to \(known.scope): it cannot get a certificate for node \"\(node)\"",
                            tokenId: id)
        }
        return .granted(tokenId: id, scope: known.scope)
    }

    private func refreshIfChanged() {
        let stamp = Self.stamp(path)
        if state.withLock({ $0.stamp != stamp }) { load(stamp: stamp, reason: "changed") }
    }

    private func load(stamp: Stamp?, reason: String) {
        let parsed: BootstrapTokenFile.Parsed
        do {
            parsed = BootstrapTokenFile.parse(try Self.read(path))
        } catch {
            // Unreadable or gone: no token is valid until it is back (fail closed).
            state.withLock { $0 = State(tokens: [:], stamp: stamp) }
            log.error("bootstrap token file \(reason): \(error); every bootstrap request is refused until it can be read")
            return
        }
        for error in parsed.errors { log.error("bootstrap token file \(path) \(error); that line is ignored") }
        state.withLock { $0 = State(tokens: Dictionary(uniqueKeysWithValues: parsed.tokens.map { ($0.id, $0) }), stamp: stamp) }
        log.info("bootstrap token file \(path) \(reason): \(parsed.tokens.count) tokens")
    }

    private static func read(_ path: String) throws -> String {
        String(decoding: try FileBytes.read(path, what: "bootstrap token file", limit: 4 << 20), as: UTF8.self)
    }

    /// What identifies one version of the file: a Kubernetes Secret update swaps a symlink, so
    /// the inode changes even when the size and time do not.
    private static func stamp(_ path: String) -> Stamp? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return Stamp(device: UInt64(info.st_dev), inode: UInt64(info.st_ino), size: Int64(info.st_size),
                     seconds: info.st_mtim.tv_sec, nanoseconds: info.st_mtim.tv_nsec)
    }
}
