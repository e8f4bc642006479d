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
        #"{"pods": {"mode": "include", "namespaces": ["shop", "cart"], "labels": {"app": "web", "app.kubernetes.io/part-of": "shop"}}}"#,
        #"{"pods": {"mode": "exclude", "names": ["kube-system/coredns-1"]}, "ports": {"mode": "include", "values": [53, "8000-8002"]}}"#,
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

    @Test("ports as numbers and FIRST-LAST ranges; bad ranges are refused with the reason")
    func portRanges() throws {
        let rules = try CollectionRules.parse(#"{"ports": {"mode": "include", "values": [22, "443", "8000-8003", "8002-8004"]}}"#)
        #expect(rules.ports?.values == [22, 443, 8000, 8001, 8002, 8003, 8004])
        for (json, reason) in [(#"["90-80"]"#, "ends before it starts"), (#"["80-"]"#, "not a port or a range"),
                               (#"["1-65535"]"#, "more than 1024 ports"), (#"["0-5"]"#, "is not a port")] {
            let refusal = Self.refusal(#"{"ports": {"mode": "include", "values": \#(json)}}"#)
            #expect(refusal?.contains(reason) == true, "\(json): \(refusal ?? "accepted")")
        }
    }

    @Test("a pod selector: needs the controller; resolved per node into pod UIDs, which agents apply as cgroups")
    func podSelectors() throws {
        let rules = try CollectionRules.parse(#"{"pods": {"mode": "include", "namespaces": ["shop"], "labels": {"app": "web"}}}"#)
        #expect(rules.pods?.matches(namespace: "shop", name: "web-0", labels: ["app": "web", "x": "y"]) == true)
        #expect(rules.pods?.matches(namespace: "shop", name: "db-0", labels: ["app": "db"]) == false)
        #expect(rules.pods?.matches(namespace: "dev", name: "web-0", labels: ["app": "web"]) == false)
        #expect(rules.needsController?.contains("controller resolves") == true)
        #expect(rules.summary == "pods include namespaces shop labels app=web")

        // What a node's agent gets: the UIDs, in as many wire rules as their limit needs.
        let node = rules.resolved(podUIDs: Set((0..<1_500).map { "uid-\($0)" }))
        let set = try node.ruleSet(version: 9)
        #expect(set.rules.count == 2 && set.rules.allSatisfy { !$0.selectsPods })
        let back = try CollectionRules(set)
        #expect(back == node && back.needsController == nil)
        #expect(back.withPodCgroups([41, 42]).cgroups == .init(mode: .include, values: [41, 42]))
        // None of this node's pods is selected: still a rule, which selects nothing.
        let empty = try rules.resolved(podUIDs: []).ruleSet(version: 9)
        #expect(try CollectionRules(empty).podUIDs == .init(mode: .include, values: []))

        for (json, reason) in [
            (#"{"pods": {"mode": "include"}}"#, "empty selector"),
            (#"{"pods": {"mode": "include", "names": ["web-0"]}}"#, "is not NS/NAME"),
            (#"{"pods": {"mode": "include", "namespaces": ["Shop"]}}"#, "DNS labels"),
            (#"{"pods": {"mode": "all", "namespaces": ["shop"]}}"#, "must be"),
            (#"{"cgroups": {"mode": "include", "values": [1]}, "pods": {"mode": "include", "namespaces": ["shop"]}}"#, "use one of them"),
        ] {
            let refusal = Self.refusal(json)
            #expect(refusal?.contains(reason) == true, "\(json): \(refusal ?? "accepted")")
        }
    }

    @Test("admits: the kernel's judgement of a flow, for what the agent judges in user space")
    func admits() throws {
        let rules = try CollectionRules.parse(#"{"ports": {"mode": "exclude", "values": [22]}, "cgroups": {"mode": "include", "values": [7]}}"#)
        #expect(rules.admits(cgroupID: 7, localPort: 443, remotePort: 50_000))
        #expect(!rules.admits(cgroupID: 7, localPort: 50_000, remotePort: 22), "the remote port counts too")
        #expect(!rules.admits(cgroupID: 8, localPort: 443, remotePort: 50_000))
        let only = try CollectionRules.parse(#"{"ports": {"mode": "include", "values": [443]}}"#)
        #expect(only.admits(cgroupID: 1, localPort: 0, remotePort: 443))
        #expect(!only.admits(cgroupID: 1, localPort: 0, remotePort: 0), "no socket: no port to match")
        #expect(CollectionRules().admits(cgroupID: 1, localPort: 0, remotePort: 0))
    }

    /// Why a rules file is refused; nil when it parses.
    static func refusal(_ json: String) -> String? {
        do throws(CollectionRules.Invalid) {
            _ = try CollectionRules.parse(json)
            return nil
        } catch {
            return error.message
        }
    }
}
