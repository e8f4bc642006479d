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
}
