import NetobsRecords
import Testing

struct CollectionRulesTests {
    @Test func anEmptyObjectCollectsEverything() throws {
        let rules = try CollectionRules.parse("{}")
        #expect(rules == CollectionRules())
        #expect(rules.summary == "collect everything")
    }

    @Test func everyKeyParses() throws {
        let rules = try CollectionRules.parse("""
            {"ports": {"mode": "exclude", "values": [80, 443]}, "cgroups": {"mode": "include", "values": [7]},
             "protocols": ["tcp"], "sample_every": 10, "l7": false}
            """)
        #expect(rules.ports == .init(mode: .exclude, values: [80, 443]))
        #expect(rules.cgroups == .init(mode: .include, values: [7]))
        #expect(rules.tcp && !rules.udp)
        #expect(rules.sampleEvery == 10)
        #expect(!rules.l7)
        #expect(rules.summary == "ports exclude 80,443; cgroups include 1; protocols tcp; 1 flow in 10; l7 off")
    }

    @Test func l7ExemplarSettingsParseWithDefaults() throws {
        let defaults = try CollectionRules.parse("{}")
        #expect(defaults.l7SampleEvery == 100 && defaults.l7SlowMs == 1000)
        let rules = try CollectionRules.parse(#"{"l7_sample_every": 1, "l7_slow_ms": 0}"#)
        #expect(rules.l7SampleEvery == 1 && rules.l7SlowMs == 0)
        #expect(rules.summary == "l7 exemplars: 1 in 1 per key")
        #expect(try CollectionRules.parse(#"{"l7_sample_every": 0, "l7_slow_ms": 250}"#).summary
            == "l7 exemplars: no per key, slow from 250 ms")
    }

    @Test(arguments: [
        ("[]", "the top level must be a JSON object"),
        (#"{"l7_sample_every": -1}"#, "l7_sample_every: must be a whole number >= 0"),
        (#"{"l7_slow_ms": "1s"}"#, "l7_slow_ms: must be a whole number of milliseconds"),
        ("{", "not valid JSON"),
        (#"{"port": 1}"#, #"unknown key "port""#),
        (#"{"ports": {"mode": "drop", "values": []}}"#, #"ports: mode must be "include" or "exclude""#),
        (#"{"ports": {"mode": "exclude", "values": [70000]}}"#, "ports: 70000.0 is not a port (1-65535)"),
        (#"{"ports": {"mode": "exclude", "values": ["http"]}}"#, #"ports: "http" is not a port or a range FIRST-LAST"#),
        (#"{"ports": {"mode": "exclude", "values": [true]}}"#, "is not a number"),
        (#"{"cgroups": {"mode": "include"}}"#, "cgroups: values must be a list"),
        (#"{"protocols": ["sctp"]}"#, #"protocols: unknown protocol "sctp""#),
        (#"{"sample_every": 0}"#, "sample_every: must be a whole number >= 1"),
        (#"{"sample_every": 2.5}"#, "sample_every: must be a whole number >= 1"),
        (#"{"l7": 1}"#, "l7: must be true or false"),
    ])
    func badFilesSayWhy(text: String, message: String) {
        #expect {
            _ = try CollectionRules.parse(text)
        } throws: { error in
            "\(error)".contains(message)
        }
    }

    @Test func tooManyPortsAreRefused() {
        let list = (1...1025).map(String.init).joined(separator: ",")
        #expect(throws: CollectionRules.Invalid("ports: 1025 values, at most 1024")) {
            try CollectionRules.parse(#"{"ports": {"mode": "include", "values": [\#(list)]}}"#)
        }
    }
}
