import Foundation
import NodeLab

/// The netobs binaries the demo drives, and which of their newer options this build has
/// (read from their --help, so the demo works before and after those land).
public struct NetobsTools: Sendable {
    public let netobs: String
    public let agent: String

    public init(netobs: String, agent: String) {
        self.netobs = netobs
        self.agent = agent
    }

    /// `netobs` and `netobs-agent` in one directory (what `swift build` makes).
    public init(directory: String) {
        self.init(netobs: directory + "/netobs", agent: directory + "/netobs-agent")
    }

    public func check() throws {
        for path in [netobs, agent] where !FileManager.default.isExecutableFile(atPath: path) {
            throw DemoError("\(path) is missing: build first (swift build), or say where the binaries are with --bin-dir")
        }
    }

    /// Subcommand names in `netobs --help`.
    public func subcommands() -> Set<String> {
        let help = helpText([])
        guard let start = help.range(of: "SUBCOMMANDS:") else { return [] }
        return Set(help[start.upperBound...].split(separator: "\n").compactMap { line in
            guard line.hasPrefix("  "), let word = line.split(separator: " ").first else { return nil }
            return String(word)
        })
    }

    /// True when `netobs <subcommand> --help` lists `flag`.
    public func has(flag: String, in subcommand: [String]) -> Bool {
        let help = helpText(subcommand)
        return help.contains(flag + " ") || help.contains(flag + "\n")
    }

    private func helpText(_ subcommand: [String]) -> String {
        guard let result = try? Shell.run([netobs] + subcommand + ["--help"], timeout: .seconds(20)) else { return "" }
        return result.stdout + result.stderr
    }
}
