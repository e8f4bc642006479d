import NetobsRecords
import NetobsWire
import Testing

/// A rules file as a wire RuleSet and back: exact for everything the file can say, refused with
/// the reason for what agents cannot apply through their filter maps.
@Suite("rules file <-> RuleSet")
struct RuleSetTranslationTests {
    @Test(arguments: [
        "{}",
        #"{"ports": {"mode": "exclude", "values": [80, 81, 82, 9000]}, "sample_every": 3, "l7": false}"#,
        #"{"ports": {"mode": "include", "values": [443]}, "cgroups": {"mode": "include", "values": [7, 8]}, "protocols": ["tcp"]}"#,
        #"{"cgroups": {"mode": "exclude", "values": [12345]}, "protocols": []}"#,
        #"{"l7_sample_every": 1, "l7_slow_ms": 0}"#,
        #"{"ports": {"mode": "include", "values": [80]}, "l7_sample_every": 0, "l7_slow_ms": 250}"#,
    ])
    func roundTrip(_ json: String) throws {
        let rules = try CollectionRules.parse(json)
        #expect(try CollectionRules(rules.ruleSet(version: 4)) == rules)
    }

    @Test("the exemplar settings ride in rule options, only when not the defaults")
    func exemplarOptions() throws {
        let plain = try CollectionRules().ruleSet(version: 1)
        #expect(plain.rules.allSatisfy { $0.options.map(\.key) == ["sample_every"] })
        var rules = CollectionRules()
        rules.l7SampleEvery = 1
        let set = try rules.ruleSet(version: 2)
        #expect(set.rules.first?.options.contains { $0.key == "l7_sample_every" && $0.value == Array("1".utf8) } == true)
        #expect(try CollectionRules(set).l7SampleEvery == 1)
    }

    @Test("sets past one wire rule's limits are split and come back whole")
    func largeSetsSplit() throws {
        var rules = CollectionRules()
        rules.cgroups = .init(mode: .exclude, values: Set(1...4_000))
        rules.ports = .init(mode: .include, values: Set(stride(from: 2, to: 1_000, by: 2).map { UInt16($0) }))
        let set = try rules.ruleSet(version: 1)
        #expect(set.rules.count > 2)
        #expect(try CollectionRules(set) == rules)
    }

    @Test("what the filter maps cannot apply is refused with the reason")
    func refused() throws {
        #expect(throws: CollectionRules.Invalid.self) { try CollectionRules(RuleSet(version: 1, rules: [Rule(id: "a", namespaces: ["shop"])])) }
        #expect(throws: CollectionRules.Invalid.self) { try CollectionRules(RuleSet(version: 1, rules: [])) }
        let mixed = RuleSet(version: 1, rules: [Rule(id: "a", ports: [PortRange(port: 80)]), Rule(id: "b", samplingPpm: 10)])
        #expect(throws: CollectionRules.Invalid.self) { try CollectionRules(mixed) }
        let both = RuleSet(version: 1, rules: [Rule(id: "a", ports: [PortRange(port: 80)]),
                                               Rule(id: "x", ports: [PortRange(port: 81)], exclude: true)])
        #expect(throws: CollectionRules.Invalid.self) { try CollectionRules(both) }
        #expect(throws: CollectionRules.Invalid.self) {
            try CollectionRules.parse(#"{"ports": {"mode": "include", "values": []}}"#).ruleSet(version: 1)
        }
    }
}
