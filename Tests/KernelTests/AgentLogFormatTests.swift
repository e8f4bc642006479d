import Foundation
import NodeLab
import Testing

/// `--log-format json`: every line the agent writes on stderr is one JSON object a log pipeline
/// can take, with the same messages as the text format.
@Suite("agent log format", .serialized)
struct AgentLogFormatTests {
    @Test func jsonLinesFromStartToStop() throws {
        let agent = try AgentRun(extraArguments: ["--log-format", "json", "--log-level", "debug"])
        _ = try agent.stop()
        let lines = agent.stderrText.split(separator: "\n")
        #expect(lines.count >= 2, "\(agent.stderrText)")
        var messages: [String] = []
        for line in lines {
            let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                                      "not a JSON object: \(line)")
            #expect(object["logger"] as? String == "netobs-agent")
            #expect(["debug", "info", "notice", "warning"].contains(object["level"] as? String ?? ""), "\(line)")
            #expect((object["ts"] as? String)?.hasSuffix("Z") == true)
            messages.append(object["msg"] as? String ?? "")
        }
        #expect(messages.contains { $0.hasPrefix("collecting on node lab-node") }, "\(messages)")
    }

    @Test func unknownFormatIsAUsageError() throws {
        let run = try Shell.run([AgentRun.binary, "--standalone", "--log-format", "xml"])
        #expect(run.status == 64, "\(run.stderr)")
        #expect(run.stderr.contains("--log-format"), "\(run.stderr)")
    }
}
