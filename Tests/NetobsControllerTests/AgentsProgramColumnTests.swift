import Foundation
import Testing
@testable import NetobsMain
import NetobsWire

/// `netobs agents`: the PROGRAM column and `program_versions` name every known object.
@Suite("netobs agents: per-object program versions")
struct AgentsProgramColumnTests {
    let both = AgentStatus(nodeName: "n", identity: "n", connected: true, programVersion: "1.2",
                           programVersions: [ProgramVersion(name: "l4", version: "1.2"), ProgramVersion(name: "l7", version: "2.0")])

    @Test func programCellListsEveryKnownObject() {
        #expect(ProgramSummary.cell(both) == "l4 1.2, l7 2.0")
        #expect(ProgramSummary.cell(AgentStatus(nodeName: "n", identity: "n", connected: true)) == "l4 embedded, l7 embedded")
        var l7Only = AgentStatus(nodeName: "n", identity: "n", connected: true)
        l7Only.setProgramVersion("2.0", of: "l7")
        #expect(ProgramSummary.cell(l7Only) == "l4 embedded, l7 2.0")
        // A controller that predates objects sends program_version alone: it is l4's.
        #expect(ProgramSummary.cell(AgentStatus(nodeName: "n", identity: "n", connected: true, programVersion: "1.2"))
                    == "l4 1.2, l7 embedded")
        // An object a newer controller reports comes after the known ones.
        var newer = both
        newer.programVersions.insert(ProgramVersion(name: "l3", version: "0.1"), at: 0)
        #expect(ProgramSummary.cell(newer) == "l4 1.2, l7 2.0, l3 0.1")
    }

    @Test func tableShowsThePerObjectCell() throws {
        let lines = AgentsFormat.table(AgentList(timestampNs: 0, agents: [both])).split(separator: "\n").map(String.init)
        try #require(lines.count == 2)
        #expect(lines[0].contains("  PROGRAM  "))
        #expect(lines[1].contains("  l4 1.2, l7 2.0  "))
    }

    @Test func jsonHasProgramVersionsBesideProgramVersion() throws {
        func object(_ a: AgentStatus) throws -> [String: Any] {
            try #require(try JSONSerialization.jsonObject(with: Data(AgentsFormat.json(a, now: 0).utf8)) as? [String: Any])
        }
        let full = try object(both)
        #expect(Set(full.keys) == AgentsJSONShape.keys)
        #expect(full["program_versions"] as? [String: String] == ["l4": "1.2", "l7": "2.0"])
        #expect(full["program_version"] as? String == "1.2")
        let embedded = try object(AgentStatus(nodeName: "n", identity: "n", connected: true))
        #expect(embedded["program_versions"] as? [String: String] == ["l4": "", "l7": ""])
        #expect(embedded["program_version"] as? String == "")
    }
}
