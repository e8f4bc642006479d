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

    @Test func theDefaultScenarioShowsEachClassicKindOnceAndFitsTheTimeBudget() throws {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("scenarios/default.yaml").path
        let scenario = try ScenarioParser.load(path: path)
        try ScenarioValidator.validate(scenario, source: path)
        #expect(Set(scenario.faults.map(\.kind.name)) == ["loss", "delay", "reset", "dns"])
        #expect(scenario.faults.count == 4)
        #expect(scenario.durationNs <= 300_000_000_000)
    }

    @Test func theAllKindsScenarioShowsEveryKind() throws {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("scenarios/all-kinds.yaml").path
        let scenario = try ScenarioParser.load(path: path)
        try ScenarioValidator.validate(scenario, source: path)
        #expect(Set(scenario.faults.map(\.kind.name)) == Set(FaultKind.names))
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
        ("duration: 30s\nfaults:\n  - {at: 1s, for: 2s, pod: carts, kind: crash}", "line 3: unknown kind 'crash' (one of loss, delay, reset, dns, kill, cpu, partition, bandwidth)"),
        ("duration: 30s\nfaults:\n  - {at: 1s, for: 2s, pod: carts, kind: partition}", "line 3: missing `peer`"),
        ("duration: 30s\nfaults:\n  - {at: 1s, for: 2s, pod: carts, kind: partition, peer: a/b/c}", "`peer` must be a pod name or namespace/name"),
        ("duration: 30s\nfaults:\n  - {at: 1s, for: 2s, pod: carts, kind: cpu}", "line 3: missing `percent`"),
        ("duration: 30s\nfaults:\n  - {at: 1s, for: 2s, pod: carts, kind: bandwidth, kbit: 2}", "`kbit` must be a whole number, 8 to 10000000"),
        ("duration: 30s\nfaults:\n  - {at: 1s, for: 2s, pod: carts, kind: kill, percent: 5}", "unknown key `percent` for kind kill"),
        ("duration: 30s\nload_connections: 0", "`load_connections` must be a whole number, 1 to 256"),
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

    @Test func theNewKindsParseWithTheirParameters() throws {
        let scenario = try ScenarioParser.parse(yaml: """
            duration: 3m
            load_connections: 8
            faults:
              - {at: 10s, for: 20s, pod: catalogue, kind: kill}
              - {at: 10s, for: 20s, pod: orders, kind: cpu, percent: 4}
              - {at: 40s, for: 20s, pod: payment, kind: partition, peer: orders}
              - {at: 40s, for: 20s, pod: carts, kind: partition, peer: sock-shop/front-end}
              - {at: 70s, for: 20s, pod: user, kind: bandwidth, kbit: 32}
            """)
        #expect(scenario.loadConnections == 8)
        #expect(scenario.faults.map(\.kind) == [.kill, .cpu(percent: 4), .partition(peer: "orders", peerNamespace: "sock-shop"),
                                                .partition(peer: "front-end", peerNamespace: "sock-shop"), .bandwidth(kbit: 32)])
        try ScenarioValidator.validate(scenario)
    }

    @Test func newKindsThatCannotWorkAreRefusedAndAPartitionInvolvesItsPeer() throws {
        let found = try problems("""
            duration: 2m
            faults:
              - {at: 1s, for: 2s, pod: kube-dns, namespace: kube-system, kind: kill}
              - {at: 1s, for: 2s, pod: carts-db, kind: cpu, percent: 5}
              - {at: 1s, for: 2s, pod: payment, kind: partition, peer: catalogue}
              - {at: 1s, for: 2s, pod: user, kind: partition, peer: user}
              - {at: 10s, for: 20s, pod: carts, kind: partition, peer: orders}
              - {at: 15s, for: 20s, pod: orders, kind: delay, ms: 100}
            """)
        #expect(found.count == 5, "\(found)")
        #expect(found[0].hasPrefix("line 3: kill on kube-dns: the demo restarts application pods only"))
        #expect(found[1].hasPrefix("line 4: cpu on carts-db:"))
        #expect(found[2].hasPrefix("line 5: partition on payment: payment and catalogue do not talk to each other"))
        #expect(found[3].hasPrefix("line 6: partition on user: a pod cannot be partitioned from itself"))
        #expect(found[4].hasPrefix("faults on sock-shop/orders overlap: line 7 (partition 10s-30s) and line 8 (delay 15s-35s)"))
    }

    @Test func randomScenariosAreValidReproducibleAndCoverEveryKind() throws {
        var kinds = Set<String>()
        var overlapping = 0
        for seed in UInt64(1)...60 {
            let (scenario, yaml) = RandomScenario.make(seed: seed)
            #expect(RandomScenario.make(seed: seed).yaml == yaml)
            try ScenarioValidator.validate(scenario, source: "seed \(seed)")
            var parsed = try ScenarioParser.parse(yaml: yaml)
            for i in parsed.faults.indices { parsed.faults[i].line = 0 }
            #expect(parsed == scenario, "seed \(seed) does not read back:\n\(yaml)")
            #expect((3...4).contains(scenario.faults.count))
            #expect(Set(scenario.faults.map(\.kind.name)).count == scenario.faults.count, "distinct kinds")
            #expect(scenario.faults.allSatisfy { $0.atNs >= 40_000_000_000 && $0.lengthNs >= 20_000_000_000 })
            #expect(scenario.faults.allSatisfy { $0.namespace == SockShop.appNamespace && $0.pod != "kube-dns" })
            #expect(scenario.durationNs <= 330_000_000_000, "seed \(seed): \(scenario.durationNs)")
            kinds.formUnion(scenario.faults.map(\.kind.name))
            let sorted = scenario.faults.sorted { $0.atNs < $1.atNs }
            if zip(sorted, sorted.dropFirst()).contains(where: { $1.atNs < $0.endNs }) { overlapping += 1 }
        }
        #expect(kinds == Set(FaultKind.names))
        #expect(overlapping >= 10 && overlapping <= 40, "\(overlapping) of 60 with two faults at once")
        #expect(RandomScenario.make(seed: 7, faults: 8).scenario.faults.count == 8)
        #expect(RandomScenario.make(seed: 1).yaml != RandomScenario.make(seed: 2).yaml)
    }

    /// `--load-connections` with `--random-scenario`: the run's scenario.yaml says the load it ran
    /// under, and the seed's faults stay the same.
    @Test func aGivenLoadReplacesTheDrawnOneAndKeepsTheFaults() throws {
        for seed in UInt64(1)...20 {
            let drawn = RandomScenario.make(seed: seed, faults: 5)
            let given = RandomScenario.make(seed: seed, faults: 5, loadConnections: 17)
            #expect(given.scenario.faults == drawn.scenario.faults)
            #expect(given.scenario.loadConnections == 17)
            #expect(try ScenarioParser.parse(yaml: given.yaml).loadConnections == 17)
            #expect(RandomScenario.loadConnections.contains(drawn.scenario.loadConnections ?? 0))
        }
        let loads = Set((UInt64(1)...40).compactMap { RandomScenario.make(seed: $0).scenario.loadConnections })
        #expect(loads.count >= 3, "the load varies with the seed: \(loads)")
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
