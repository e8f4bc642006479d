import NetobsRecords

/// `netobs-agent --standalone`: no controller; one JSON object per line on stdout at every
/// flush interval (see `CollectionLoop` for signals).
public enum StandaloneAgent {
    public static func run(_ settings: CollectionLoop.Settings) throws {
        try CollectionLoop.run(settings, destination: "printing to stdout", deliver: emit)
        AgentLog.info("stopped")
    }

    private static func emit(_ records: [Record]) throws {
        guard !records.isEmpty else { return }
        var lines: [UInt8] = []
        for record in records {
            lines += JSONLineWriter.bytes(record)
            lines.append(UInt8(ascii: "\n"))
        }
        if !FDWriter.write(lines, to: 1) { throw OutputClosed() }
    }

    struct OutputClosed: Error, CustomStringConvertible {
        var description: String { "stdout was closed" }
    }
}
