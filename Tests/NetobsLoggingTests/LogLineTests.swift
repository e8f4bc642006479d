import Foundation
import Logging
import Testing
@testable import NetobsLogging

@Suite("log lines")
struct LogLineTests {
    static let ts: UInt64 = 1_796_304_801_123_456_789  // 2026-12-03T13:33:21.123Z

    @Test func textKeepsTheFormatOperatorsGrepFor() {
        let line = LogLine.render(format: .text, label: "netobs-agent", level: .info, message: "collecting on node n1",
                                  metadata: ["tier": "portable", "b": "2"], unixNs: Self.ts)
        #expect(line == "netobs-agent: info: collecting on node n1 b=2 tier=portable\n")
    }

    @Test func jsonIsOneObjectPerLineThatParses() throws {
        let message = "bad URI \"/a\u{1b}[31m\"\nsecond line\t\\"
        let line = LogLine.render(format: .json, label: "netobs controller", level: .warning, message: message,
                                  metadata: ["node": "n1", "msg": "ignored: reserved"], unixNs: Self.ts)
        #expect(line.hasSuffix("}\n") && line.dropLast().firstIndex(of: "\n") == nil)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: String])
        #expect(object == ["ts": "2026-12-03T13:33:21.123Z", "level": "warning", "logger": "netobs controller",
                           "msg": message, "node": "n1"])
    }

    @Test func timestampsAcrossDatesAndYears() {
        #expect(LogLine.rfc3339(0) == "1970-01-01T00:00:00.000Z")
        #expect(LogLine.rfc3339(951_782_400_000_000_000) == "2000-02-29T00:00:00.000Z")
        #expect(LogLine.rfc3339(1_735_689_599_999_000_000) == "2024-12-31T23:59:59.999Z")
        #expect(LogLine.rfc3339(Self.ts) == "2026-12-03T13:33:21.123Z")
    }

    @Test func optionsParseAndRefuseUnknownValues() throws {
        let options = try LogOptions.parse(["--log-level", "debug", "--log-format", "json"])
        #expect(options.logLevel == .debug && options.logFormat == .json)
        let defaults = try LogOptions.parse([])
        #expect(defaults.logLevel == .info && defaults.logFormat == .text)
        #expect(throws: (any Error).self) { try LogOptions.parse(["--log-format", "xml"]) }
        #expect(throws: (any Error).self) { try LogOptions.parse(["--log-level", "loud"]) }
    }
}
