@testable import NetobsController
import NetobsWire
import Testing

/// The rollout state machine on its own (no network): phases, and who is rolled back.
@Suite("rollout state machine")
struct RolloutStateTests {
    func status(_ version: String, _ state: ProgramState) -> ProgramStatus {
        ProgramStatus(name: "l4", version: version, state: state, verifierLog: state == .rejected ? "R1 invalid" : "")
    }

    @Test("canaries first, the rest after every canary loaded, then finished and activated")
    func phases() {
        var r = Rollout(bundle: 2, name: "l4", version: "2", previous: 1)
        #expect(r.start(agents: ["a", "b", "c", "d"], canaryPercent: 50) == [.send(bundle: 2, to: ["a", "b"])])
        #expect(r.report(from: "a", status("2", .loaded)).isEmpty)
        #expect(r.report(from: "c", status("2", .loaded)).isEmpty)          // not sent to c yet: ignored
        #expect(r.report(from: "b", status("2", .loaded)) == [.send(bundle: 2, to: ["c", "d"])])
        #expect(r.gone("c").isEmpty)
        let end = r.report(from: "d", status("2", .loaded))
        #expect(end == [.finished(activate: true, status: ProgramStatus(name: "l4", version: "2", state: .loaded))])
    }

    @Test("a refusal rolls back the moved agents and those still loading, and never activates")
    func refusal() {
        var r = Rollout(bundle: 2, name: "l4", version: "2", previous: 1)
        _ = r.start(agents: ["a", "b", "c", "d", "e"], canaryPercent: 60)
        _ = r.report(from: "a", status("2", .loaded))
        let actions = r.report(from: "b", status("2", .rejected))
        #expect(actions.first == .send(bundle: 1, to: ["a", "c"]))
        guard case .finished(let activate, let s)? = actions.last else {
            Issue.record("no finish")
            return
        }
        #expect(!activate && s.state == .rejected && s.verifierLog == "R1 invalid")
        #expect(r.report(from: "c", status("2", .loaded)).isEmpty)
    }

    @Test("a refused l7 goes back to the l7 it replaced, and the text names the object")
    func refusalNamesTheObject() {
        var r = Rollout(bundle: 5, name: "l7", version: "2", previous: 3)
        _ = r.start(agents: ["a", "b"], canaryPercent: 100)
        _ = r.report(from: "a", ProgramStatus(name: "l7", version: "2", state: .loaded))
        #expect(r.report(from: "b", ProgramStatus(name: "l4", version: "2", state: .rejected)).isEmpty) // another object's
        let actions = r.report(from: "b", ProgramStatus(name: "l7", version: "2", state: .rejected, error: "verifier"))
        #expect(actions.first == .send(bundle: 3, to: ["a"]))
        guard case .finished(false, let s)? = actions.last else {
            Issue.record("no finish")
            return
        }
        #expect(s.error == "agent b refused l7 2: verifier; rollout stopped; rolling back a to the previous l7")
    }

    @Test("no agents: finished at once")
    func empty() {
        var r = Rollout(bundle: 1, name: "l4", version: "1", previous: nil)
        #expect(r.start(agents: [], canaryPercent: 10)
            == [.finished(activate: true, status: ProgramStatus(name: "l4", version: "1", state: .loaded))])
    }
}
