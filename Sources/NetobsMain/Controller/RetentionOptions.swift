import ArgumentParser
import NetobsController

/// `netobs controller`'s bounds on the agents' durable logs.
struct RetentionOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Bytes of all agents' logs together (64M, 16G; binary units); the oldest segments of any agent go first. 0: no bound.",
                               valueName: "size"))
    var retentionBytes = "1G"

    @Option(help: ArgumentHelp("Drop segments whose newest batch is older than this (90m, 36h, 7d). Default: no age bound.",
                               valueName: "duration"))
    var retentionAge: String?

    @Option(help: ArgumentHelp("Largest segment file; segments are smaller when the byte bound is shared by many agents.",
                               valueName: "size"))
    var segmentBytes = "64M"

    func validate() throws { _ = try retention() }

    func retention() throws -> LogRetention {
        guard let bytes = ByteCount.parse(retentionBytes) else {
            throw ValidationError("--retention-bytes must be a size such as 64M or 16G")
        }
        guard let segment = ByteCount.parse(segmentBytes), segment >= 4096 else {
            throw ValidationError("--segment-bytes must be a size of at least 4K")
        }
        var age: UInt64?
        if let retentionAge, retentionAge != "0" {
            guard let ns = ByteCount.parseDuration(retentionAge), ns > 0 else {
                throw ValidationError("--retention-age must be a duration such as 90m, 36h or 7d")
            }
            age = ns
        }
        return LogRetention(maxBytes: bytes, maxAgeNs: age, segmentBytes: segment)
    }
}
