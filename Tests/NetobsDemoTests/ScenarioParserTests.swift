import Foundation
import Testing
@testable import NetobsDemo

@Suite struct ScenarioParserTests {
    /// DESIGN.md's example, verbatim.
    @Test func parsesTheContractExample() throws {
        let scenario = try ScenarioParser.parse(yaml: """
            duration: 240s
            faults:
              - {at: 90s, for: 60s, pod: carts, kind: loss, percent: 30}
              - {at: 170s, for: 50s, pod: front-end, kind: delay, ms: 150}
            """)
        #expect(scenario.durationNs == 240_000_000_000)
        #expect(scenario.faults == [
            Fault(atNs: 90_000_000_000, lengthNs: 60_000_000_000, pod: "carts", kind: .loss(percent: 30), line: 3),
            Fault(atNs: 170_000_000_000, lengthNs: 50_000_000_000, pod: "front-end", kind: .delay(ms: 150), line: 4),
        ])
        try ScenarioValidator.validate(scenario)
    }

    @Test func blockStyleNamespaceResetDefaultAndDNS() throws {
        let scenario = try ScenarioParser.parse(yaml: """
            duration: 2m
            faults:
              - at: 1m
                for: 30s
                pod: orders
                namespace: sock-shop
                kind: reset
              - at: 10s
                for: 5s
                pod: kube-dns
                namespace: kube-system
                kind: loss
                percent: 12.5%
              - {at: 20s, for: 5s, pod: user, kind: dns}
            """)
        #expect(scenario.faults.map(\.kind) == [.reset(percent: 100), .loss(percent: 12.5), .dns])
        #expect(scenario.faults[1].namespace == "kube-system")
        try ScenarioValidator.validate(scenario)
    }

    @Test func theDefaultScenarioShowsEachKindOnceAndFitsTheTimeBudget() throws {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("scenarios/default.yaml").path
        let scenario = try ScenarioParser.load(path: path)
        try ScenarioValidator.validate(scenario, source: path)
        #expect(Set(scenario.faults.map(\.kind.name)) == Set(FaultKind.names))
        #expect(scenario.faults.count == FaultKind.names.count)
        #expect(scenario.durationNs <= 300_000_000_000)
    }

    @Test func noFaultsIsAValidScenario() throws {
        #expect(try ScenarioParser.parse(yaml: "duration: 30s").faults.isEmpty)
        #expect(try ScenarioParser.parse(yaml: "duration: 30s\nfaults: []").faults.isEmpty)
    }

    // MARK: Form errors, with their lines

    @Test(arguments: [
        ("duration: 30s\nfaults:\n  - {at: 1s, for: 2s, pod: carts, kind: loss, precent: 3}", "line 3: unknown key `precent` for kind loss"),
        ("duration: 30s\nfaults:\n  - {at: 1s, for: 2s, pod: carts, kind: loss}", "line 3: missing `percent`"),
        ("duration: 30s\nfaults:\n  - {at: 1s, for: 2s, pod: carts, kind: loss, percent: 130}", "line 3: `percent` must be a number above 0 and at most 100"),
        ("duration: 30s\nfaults:\n  - {at: 1s, for: 2s, pod: carts, kind: delay, ms: 1.5}", "`ms` must be a whole number"),
        ("duration: 30s\nfaults:\n  - {at: 1s, for: 2s, pod: carts, kind: loss, percent: 3, ms: 4}", "unknown key `ms` for kind loss"),
        ("duration: 30s\nfaults:\n  - {at: 1s, for: 2s, pod: carts, kind: partition}", "line 3: unknown kind 'partition' (one of loss, delay, reset, dns)"),
        ("duration: 30s\nfaults:\n  - {at: soon, for: 2s, pod: carts, kind: dns}", "line 3: `at` must be a duration"),
        ("duration: 30s\nfaults:\n  - {for: 2s, pod: carts, kind: dns}", "line 3: missing `at`"),
        ("duration: 30s\nfaults:\n  - {at: 1s, at: 2s, for: 2s, pod: carts, kind: dns}", "duplicated key(s): 'at'"),
        ("duration: 30s\nfaults: carts", "line 2: `faults` must be a list"),
        ("duration: 30s\nfault: []", "line 2: unknown key `fault`"),
        ("faults: []", "missing `duration`"),
        ("duration: [30s", "not valid YAML"),
        ("- 30s", "expected a mapping"),
    ])
    func formErrorsAreNamed(yaml: String, expected: String) throws {
        let error = try #require(throws: ScenarioError.self) { try ScenarioParser.parse(yaml: yaml, source: "s.yaml") }
        #expect(error.description.contains(expected), "\(error.description)")
        #expect(error.description.hasPrefix("scenario s.yaml"))
    }

    @Test func everyProblemIsListedNotJustTheFirst() throws {
        let error = try #require(throws: ScenarioError.self) {
            try ScenarioParser.parse(yaml: """
                duration: 30s
                faults:
                  - {at: 1s, for: 2s, pod: carts, kind: loss}
                  - {at: 1s, for: 2s, pod: carts, kind: delay}
                """)
        }
        #expect(error.problems == ["line 3: missing `percent`", "line 4: missing `ms`"])
    }

    // MARK: Validation against the cluster

    private func problems(_ yaml: String) throws -> [String] {
        ScenarioValidator.problems(in: try ScenarioParser.parse(yaml: yaml))
    }

    @Test func unknownPodsAreNamedWithTheKnownOnes() throws {
        let found = try problems("duration: 30s\nfaults:\n  - {at: 1s, for: 2s, pod: cart, kind: loss, percent: 5}")
        #expect(found.count == 1)
        #expect(found[0].hasPrefix("line 3: unknown pod sock-shop/cart; the demo's pods: front-end, catalogue, carts,"))
        #expect(found[0].contains("kube-dns (namespace kube-system)"))
        // kube-dns lives in kube-system; without the namespace it is not found.
        #expect(try problems("duration: 30s\nfaults:\n  - {at: 1s, for: 2s, pod: kube-dns, kind: loss, percent: 5}")
            .first?.hasPrefix("line 3: unknown pod sock-shop/kube-dns;") == true)
    }

    @Test func faultsMustEndWithinTheRun() throws {
        #expect(try problems("duration: 60s\nfaults:\n  - {at: 50s, for: 20s, pod: carts, kind: dns}")
            == ["line 3: the fault ends at 1m10s (at + for), after the run's duration 1m"])
        #expect(try problems("duration: 60s\nfaults:\n  - {at: 50s, for: 10s, pod: carts, kind: dns}").isEmpty)
        #expect(try problems("duration: 60s\nfaults:\n  - {at: 5s, for: 0s, pod: carts, kind: dns}")
            == ["line 3: `for` must be above 0"])
        #expect(try problems("duration: 0s") == ["`duration` must be above 0"])
    }

    @Test func overlappingFaultsOnOnePodAreRefusedTouchingOnesAreNot() throws {
        #expect(try problems("""
            duration: 2m
            faults:
              - {at: 10s, for: 30s, pod: carts, kind: loss, percent: 5}
              - {at: 30s, for: 30s, pod: carts, kind: delay, ms: 100}
              - {at: 30s, for: 30s, pod: orders, kind: delay, ms: 100}
            """) == ["faults on sock-shop/carts overlap: line 3 (loss 10s-40s) and line 4 (delay 30s-1m); one pod takes one fault at a time"])
        #expect(try problems("""
            duration: 2m
            faults:
              - {at: 10s, for: 30s, pod: carts, kind: loss, percent: 5}
              - {at: 40s, for: 30s, pod: carts, kind: delay, ms: 100}
            """).isEmpty)
    }

    @Test func faultsThatCannotWorkOnAPodAreRefusedWithTheReason() throws {
        let found = try problems("""
            duration: 2m
            faults:
              - {at: 1s, for: 2s, pod: carts-db, kind: delay, ms: 100}
              - {at: 1s, for: 2s, pod: front-end, kind: dns}
              - {at: 1s, for: 2s, pod: kube-dns, namespace: kube-system, kind: reset}
              - {at: 1s, for: 2s, pod: load-generator, namespace: loadgen, kind: loss, percent: 5}
            """)
        #expect(found.count == 4)
        #expect(found[0].hasPrefix("line 3: delay on carts-db: delay is injected by the demo application"))
        #expect(found[1].hasPrefix("line 4: dns on front-end: only the load generator resolves front-end"))
        #expect(found[2].hasPrefix("line 5: reset on kube-dns: kube-dns is reached over UDP"))
        #expect(found[3].hasPrefix("line 6: loss on load-generator: the load generator is the demo's client"))
    }

    /// `netobs demo --duration` replaces the scenario's duration before validation.
    @Test func aShorterDurationOverrideMustStillHoldEveryFault() throws {
        var scenario = try ScenarioParser.parse(yaml: "duration: 2m\nfaults:\n  - {at: 50s, for: 20s, pod: carts, kind: dns}")
        scenario.durationNs = DurationText.parse("1m")!
        #expect(ScenarioValidator.problems(in: scenario).count == 1)
        scenario.durationNs = DurationText.parse("70s")!
        #expect(ScenarioValidator.problems(in: scenario).isEmpty)
    }

    // MARK: Durations

    @Test(arguments: [("90s", 90_000_000_000), ("2m", 120_000_000_000), ("1m30s", 90_000_000_000), ("500ms", 500_000_000),
                      ("1.5s", 1_500_000_000), ("45", 45_000_000_000), ("1h", 3_600_000_000_000), ("0s", 0)] as [(String, Int64)])
    func durationsParse(text: String, ns: Int64) {
        #expect(DurationText.parse(text) == ns)
    }

    @Test(arguments: ["", "s", "-5s", "5 parsecs", "1m30", "ms", "5x"])
    func nonDurationsDoNotParse(text: String) {
        #expect(DurationText.parse(text) == nil)
    }

    @Test func durationsFormatShortAndExact() {
        #expect(DurationText.format(90_000_000_000) == "1m30s")
        #expect(DurationText.format(120_000_000_000) == "2m")
        #expect(DurationText.format(45_000_000_000) == "45s")
        #expect(DurationText.format(250_000_000) == "250ms")
    }
}
