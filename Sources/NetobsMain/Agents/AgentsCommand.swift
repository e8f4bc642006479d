import ArgumentParser
import Foundation
import NetobsRecords
import NetobsWire

/// `netobs agents`: the controller's view of its agents.
struct AgentsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "agents",
        abstract: "List the agents the controller knows: status, versions, lag, losses (operator role).",
        discussion: """
            PROGRAM is the version of each kernel object the agent runs (l4 flows, l7 HTTP/DNS), \
            "embedded" for one it runs from its own build; --json has them as program_versions \
            (object -> version, "" when embedded) beside program_version (l4's, as before). -o json (or jsonl) \
            prints one JSON object per agent per line. \
            LAG is the highest batch sequence received minus the highest stored and acknowledged, \
            then the seconds since the last batch. LOST is the records the agent reported lost \
            (its loss records). IDENTITY is the CN of the agent's certificate, which must be its node name. \
            HOOKS sums up the tier picked for each kernel hook (btf, portable, mixed(N btf, M portable), \
            plus "K off" when some cannot be used); --json lists every hook with the metrics it leaves off \
            and why. A disconnected agent shows its last report.
            """)

    @OptionGroup var connection: OperatorConnection

    @Option(name: [.short, .customLong("output")], help: "table, or json/jsonl: one JSON object per agent per line.")
    var output: ListingFormat = .table

    @Flag(help: ArgumentHelp("Deprecated: use -o jsonl.", visibility: .hidden))
    var json = false

    func run() async throws {
        if json { Deprecation.warn("--json", use: "-o jsonl", command: "agents") }
        let list = try await connection.agents()
        if json || output.isJSON {
            for a in list.agents { print(AgentsFormat.json(a, now: list.timestampNs)) }
        } else {
            print(AgentsFormat.table(list))
        }
    }
}

/// Table and JSON renderings of an AgentList (pure).
enum AgentsFormat {
    static func secondsSinceBatch(_ a: AgentStatus, now: UInt64) -> Double? {
        guard a.lastBatchNs > 0 else { return nil }
        return Double(now > a.lastBatchNs ? now - a.lastBatchNs : 0) / 1e9
    }

    static func table(_ list: AgentList) -> String {
        let header = ["NODE", "IDENTITY", "STATUS", "PROGRAM", "RULES", "ACKED", "LAG", "LOST", "HOOKS", "DETAIL"]
        let rows = list.agents.map { a -> [String] in
            // Names and details come from agents' certificates and reports: no control characters.
            let age = secondsSinceBatch(a, now: list.timestampNs).map { String(format: "%.1fs", $0) } ?? "-"
            return [a.nodeName, a.identity, a.connected ? "connected" : "disconnected",
                    ProgramSummary.cell(a),
                    a.rulesVersion == 0 ? "-" : String(a.rulesVersion), String(a.ackedSequence),
                    "\(a.seenSequence &- min(a.seenSequence, a.ackedSequence)) / \(age)", String(a.lostRecords),
                    HookSummary.cell(a.hooks), a.detail].map(TerminalText.escape)
        }
        let widths = header.indices.map { i in ([header] + rows).map { $0[i].count }.max() ?? 0 }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { i, c in i == cells.count - 1 ? c : c.padding(toLength: widths[i], withPad: " ", startingAt: 0) }
                .joined(separator: "  ").trimmingCharacters(in: .whitespaces)
        }
        return ([line(header)] + rows.map(line)).joined(separator: "\n")
    }

    static func json(_ a: AgentStatus, now: UInt64) -> String {
        var object: [String: Any] = [
            "node": a.nodeName, "identity": a.identity, "connected": a.connected,
            "program_version": a.programVersion, "program_versions": ProgramSummary.json(a), "rules_version": a.rulesVersion, "detail": a.detail,
            "acked_sequence": a.ackedSequence, "seen_sequence": a.seenSequence,
            "lag_batches": a.seenSequence &- min(a.seenSequence, a.ackedSequence), "lost_records": a.lostRecords,
            "counters": Dictionary(a.counters.map { ($0.name, $0.value) }, uniquingKeysWith: { $1 }),
            "hooks": a.hooks.map { h -> [String: Any] in
                ["hook": h.hook, "tier": h.tier, "program_type": h.programType, "metrics_off": h.metricsOff,
                 "reason": h.reason]
            },
        ]
        if let age = secondsSinceBatch(a, now: now) { object["seconds_since_batch"] = age }
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self)
    }
}
