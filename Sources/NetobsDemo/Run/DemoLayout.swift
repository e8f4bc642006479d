import Foundation

/// Where a demo run keeps everything, all under its output directory.
public struct DemoLayout: Sendable {
    public let out: String

    public init(out: String) {
        self.out = URL(fileURLWithPath: out).standardizedFileURL.path
    }

    public var records: String { out + "/records.jsonl" }
    public var labels: String { out + "/labels.jsonl" }
    public var anomalies: String { out + "/anomalies.jsonl" }
    public var report: String { out + "/report.json" }
    public var topology: String { out + "/topology.json" }
    public var scenario: String { out + "/scenario.yaml" }
    public var summary: String { out + "/run.json" }
    public var certs: String { out + "/certs" }
    public var controllerData: String { out + "/controller" }
    public var spool: String { out + "/agent-spool" }
    public var logs: String { out + "/logs" }
    public var appState: String { out + "/app" }
    /// dnsmasq's addn-hosts file: the cluster's names.
    public var hostsFile: String { appState + "/hosts" }

    public func log(_ name: String) -> String { logs + "/" + name + ".log" }
    /// The delay fault's control file of a service (milliseconds).
    public func delayControl(_ service: String) -> String { appState + "/" + service + ".delay_ms" }

    /// Makes the directory tree; refuses an output directory that already holds files, so a
    /// run never mixes its records, labels or spool with an earlier one's.
    public func create() throws {
        let fm = FileManager.default
        if let existing = try? fm.contentsOfDirectory(atPath: out), !existing.isEmpty {
            throw DemoError("output directory \(out) is not empty (\(existing.sorted().prefix(3).joined(separator: ", "))...); "
                + "give a new one with --out")
        }
        for dir in [out, logs, appState] {
            try fm.createDirectory(atPath: dir, withIntermediateDirectories: true)
        }
    }
}

/// A demo failure with its explanation.
public struct DemoError: Error, Sendable, CustomStringConvertible {
    public let description: String
    public init(_ message: String) { description = message }
}
