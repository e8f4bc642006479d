#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Foundation

/// Everything that can go wrong while building or using a lab, with enough context
/// (command line, exit status, stderr) to diagnose a failing kernel test from its log alone.
public enum NodeLabError: Error, Sendable, CustomStringConvertible {
    case notRoot
    case missingTool(String, hint: String)
    case noCgroup2Mount
    case commandFailed(argv: [String], status: Int32, stdout: String, stderr: String)
    case timedOut(argv: [String], after: Duration, stdout: String, stderr: String)
    case spawnFailed(argv: [String], errno: Int32)
    case system(String, errno: Int32)
    case invalidName(String, reason: String)
    case exhausted(String)
    case tornDown(String)

    public var description: String {
        switch self {
        case .notRoot:
            return "NodeLab needs root (network namespaces, veth, bridge, cgroup v2); run as root"
        case let .missingTool(tool, hint):
            return "NodeLab needs `\(tool)` but it is not installed (\(hint))"
        case .noCgroup2Mount:
            return "NodeLab found no cgroup2 mount in /proc/mounts (mount -t cgroup2 none /sys/fs/cgroup/unified)"
        case let .commandFailed(argv, status, stdout, stderr):
            return "command failed (status \(status)): \(Shell.render(argv))"
                + Self.section("stderr", stderr) + Self.section("stdout", stdout)
        case let .timedOut(argv, after, stdout, stderr):
            return "command timed out after \(after) and was killed: \(Shell.render(argv))"
                + Self.section("stderr", stderr) + Self.section("stdout", stdout)
        case let .spawnFailed(argv, code):
            return "could not start \(Shell.render(argv)): \(Self.errnoText(code))"
        case let .system(what, code):
            return "\(what): \(Self.errnoText(code))"
        case let .invalidName(name, reason):
            return "invalid name '\(name)': \(reason)"
        case let .exhausted(what):
            return "out of \(what)"
        case let .tornDown(lab):
            return "lab \(lab) is already torn down"
        }
    }

    static func errnoText(_ code: Int32) -> String {
        "\(String(cString: strerror(code))) (errno \(code))"
    }

    private static func section(_ title: String, _ text: String) -> String {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        return trimmed.isEmpty ? "" : "\n\(title): \(trimmed)"
    }
}
