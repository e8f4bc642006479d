import Foundation
import NetobsWire

/// Parses the annotated hex of a vector file: `#` starts a comment, whitespace is ignored.
func parseHex(_ text: String) -> [UInt8] {
    var out: [UInt8] = []
    var digits: [UInt8] = []
    for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
        for c in line.prefix(while: { $0 != "#" }).utf8 where !(c == 0x20 || c == 0x09 || c == 0x0D) {
            digits.append(c)
        }
    }
    precondition(digits.count % 2 == 0, "odd number of hex digits")
    func nibble(_ c: UInt8) -> UInt8 {
        switch c {
        case 0x30...0x39: c - 0x30
        case 0x61...0x66: c - 0x61 + 10
        case 0x41...0x46: c - 0x41 + 10
        default: preconditionFailure("not a hex digit: \(c)")
        }
    }
    for i in stride(from: 0, to: digits.count, by: 2) { out.append(nibble(digits[i]) << 4 | nibble(digits[i + 1])) }
    return out
}

func hex(_ bytes: some Sequence<UInt8>) -> String {
    bytes.map { String($0 >> 4, radix: 16) + String($0 & 0xF, radix: 16) }.joined()
}

enum Vectors {
    static let directory: URL = Bundle.module.resourceURL!.appendingPathComponent("Vectors")

    static func load(_ name: String) throws -> [UInt8] {
        parseHex(try String(contentsOf: directory.appendingPathComponent(name + ".hex"), encoding: .utf8))
    }

    /// Every vector file name, without extension.
    static func all() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: directory.path)
            .filter { $0.hasSuffix(".hex") }
            .map { String($0.dropLast(4)) }
            .sorted()
    }
}

/// Decodes all frames of `bytes` in one feed.
func decodeFrames(_ bytes: [UInt8], maxPayload: UInt32 = Limits.absoluteMaxPayload) throws(WireError) -> [Frame] {
    var d = FrameDecoder(maxPayload: maxPayload)
    d.feed(bytes)
    var frames: [Frame] = []
    while let f = try d.next() { frames.append(f) }
    return frames
}

/// The outcome of feeding a stream in chunks: the frames, then the error if one ended it.
struct StreamOutcome: Equatable {
    var frames: [Frame] = []
    var error: WireError?
    var buffered = 0
}

func feedInChunks(_ bytes: [UInt8], chunkSizes: (Int) -> Int, maxPayload: UInt32 = Limits.absoluteMaxPayload)
    -> StreamOutcome
{
    var d = FrameDecoder(maxPayload: maxPayload)
    var out = StreamOutcome()
    var i = 0
    while i < bytes.count {
        let n = max(1, min(chunkSizes(i), bytes.count - i))
        d.feed(bytes[i..<i + n])
        i += n
        do {
            while let f = try d.next() { out.frames.append(f) }
        } catch {
            out.error = error
            return out
        }
    }
    out.buffered = d.bufferedByteCount
    return out
}

/// SplitMix64: tiny, seedable, good enough for generating test cases reproducibly.
struct SeededRandom: RandomNumberGenerator {
    private var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Random but valid messages, biased towards edges: empty, limit-sized, multi-byte UTF-8.
struct MessageGenerator {
    var rng: SeededRandom

    init(seed: UInt64) { rng = SeededRandom(seed: seed) }

    mutating func chance(_ p: Double) -> Bool { Double.random(in: 0..<1, using: &rng) < p }
    mutating func int(_ r: ClosedRange<Int>) -> Int { Int.random(in: r, using: &rng) }
    mutating func u16() -> UInt16 { UInt16.random(in: .min ... .max, using: &rng) }
    mutating func u32() -> UInt32 { UInt32.random(in: .min ... .max, using: &rng) }
    mutating func u64() -> UInt64 {
        // Edges matter more than the middle for fixed-width fields.
        chance(0.2) ? [0, 1, .max, .max - 1, 1 << 63][int(0...4)] : rng.next()
    }

    private static let scalars: [Unicode.Scalar] = ["a", "z", "0", "-", ".", " ", "\n", "\0", "é", "ß", "日", "本", "🦀", "\u{7F}", "\u{FFFD}"]

    /// A string of at most `limit` UTF-8 bytes; sometimes exactly at the limit.
    mutating func string(limit: Int) -> String {
        let target: Int
        switch int(0...9) {
        case 0: target = 0
        case 1: target = limit
        default: target = int(0...min(limit, 40))
        }
        var s = ""
        var bytes = 0
        while bytes < target {
            var c = Self.scalars[int(0...(Self.scalars.count - 1))]
            if bytes + c.utf8.count > target { c = "x" }
            s.unicodeScalars.append(c)
            bytes += c.utf8.count
        }
        return s
    }

    mutating func bytes(limit: Int, typical: Int = 64) -> [UInt8] {
        let n = chance(0.05) ? min(limit, int(0...limit)) : int(0...min(limit, typical))
        var out: [UInt8] = []
        out.reserveCapacity(n + 8)
        while out.count < n { withUnsafeBytes(of: rng.next()) { out.append(contentsOf: $0) } }
        return Array(out.prefix(n))
    }

    /// Mostly short; sometimes (`full`) exactly at the count limit.
    mutating func array<T>(limit: Int, typical: Int = 4, full: Double = 0.02,
                           _ make: (inout MessageGenerator) -> T) -> [T] {
        let n = chance(full) ? limit : int(0...min(limit, typical))
        var out: [T] = []
        for _ in 0..<n { out.append(make(&self)) }
        return out
    }

    mutating func stringSet(countLimit: Int, lengthLimit: Int) -> Set<String> {
        Set(array(limit: countLimit) { g in g.string(limit: lengthLimit) })
    }

    mutating func options() -> [KeyValue] {
        array(limit: Limits.options, typical: 3) { g in
            KeyValue(key: g.string(limit: Limits.label), value: g.bytes(limit: Limits.optionValue, typical: 16))
        }
    }

    /// Either a few records of any size, or (rarely) the maximum count of small ones: the product
    /// of both limits would exceed the 32 MiB payload ceiling.
    mutating func records() -> [[UInt8]] {
        if chance(0.01) { return array(limit: Limits.records, typical: 2_000) { g in g.bytes(limit: 64, typical: 16) } }
        return array(limit: 16, typical: 8) { g in g.bytes(limit: Limits.record, typical: 48) }
    }

    /// Match clauses of a Subscribe; rarely limit-sized (32 clauses, or 64 values of 253 bytes).
    mutating func clauses() -> [MatchClause] {
        array(limit: Limits.matchClauses, typical: 3) { g in
            MatchClause(g.string(limit: Limits.label), g.array(limit: Limits.matchValues, typical: 3) { g in g.string(limit: Limits.name) })
        }
    }

    /// A hook report; rarely limit-sized (64 hooks, or a hook with 64 metrics off).
    mutating func hooks() -> [HookStatus] {
        array(limit: Limits.hooks, typical: 6) { g in
            HookStatus(hook: g.string(limit: Limits.label), tier: g.string(limit: Limits.label),
                       programType: g.string(limit: Limits.label),
                       metricsOff: g.array(limit: Limits.metricsOffPerHook, typical: 3) { g in g.string(limit: Limits.label) },
                       reason: g.string(limit: Limits.text))
        }
    }

    /// Per-object program versions; rarely limit-sized (16).
    mutating func programVersions() -> [ProgramVersion] {
        array(limit: Limits.programVersions, typical: 2) { g in
            ProgramVersion(name: g.string(limit: Limits.label), version: g.string(limit: Limits.label))
        }
    }

    /// `full` is the chance of each list being limit-sized; kept at 0 inside a limit-sized rule list.
    mutating func rule(full: Double = 0.02) -> Rule {
        Rule(id: string(limit: Limits.label),
             namespaces: array(limit: Limits.namespacesPerRule, full: full) { g in g.string(limit: Limits.label) },
             pods: array(limit: Limits.podsPerRule, full: full) { g in g.string(limit: Limits.name) },
             cgroupIds: array(limit: Limits.cgroupsPerRule, full: full) { g in g.u64() },
             ports: array(limit: Limits.portRangesPerRule, full: full) { g in
                 let a = g.u16(), b = g.u16()
                 return PortRange(min(a, b), max(a, b))
             },
             protocols: ProtocolSet(rawValue: UInt8.random(in: 0...255, using: &rng)),
             samplingPpm: UInt32.random(in: 0...Limits.samplingPpmMax, using: &rng),
             l7: chance(0.5),
             options: options(),
             exclude: chance(0.3),
             labels: chance(0.3) ? options() : [],
             podUIDs: chance(0.3) ? array(limit: Limits.podsPerRule, full: full) { g in g.string(limit: Limits.label) } : nil)
    }

    mutating func message(_ type: MessageType) -> Message {
        switch type {
        case .hello:
            let lo = UInt16.random(in: 1...UInt16.max, using: &rng)
            return .hello(Hello(minVersion: lo, maxVersion: UInt16.random(in: lo...UInt16.max, using: &rng),
                                role: Role.allCases.randomElement(using: &rng)!,
                                capabilities: stringSet(countLimit: Limits.capabilities, lengthLimit: Limits.label),
                                agent: chance(0.5) ? AgentIdentity(nodeName: string(limit: Limits.name),
                                                                    agentVersion: string(limit: Limits.label),
                                                                    kernelRelease: string(limit: Limits.label)) : nil,
                                hooks: chance(0.5) ? hooks() : []))
        case .helloAccept:
            return .helloAccept(HelloAccept(
                version: UInt16.random(in: 1...UInt16.max, using: &rng),
                capabilities: stringSet(countLimit: Limits.capabilities, lengthLimit: Limits.label),
                serverId: string(limit: Limits.name),
                maxPayloadSize: UInt32.random(in: Limits.minNegotiatedPayload...Limits.absoluteMaxPayload, using: &rng),
                heartbeatIntervalMs: UInt32.random(in: Limits.heartbeatIntervalMs, using: &rng)))
        case .heartbeat:
            return .heartbeat(Heartbeat(timestampNs: u64(),
                                        counters: array(limit: Limits.counters) { g in Counter(g.string(limit: Limits.label), g.u64()) }))
        case .error:
            return .error(ErrorMessage(code: ErrorCode(rawValue: u16()), message: string(limit: Limits.text),
                                       failedCorrelationId: chance(0.5) ? u64() : nil))
        case .ruleSet:
            let rules = chance(0.01) ? array(limit: Limits.rules, full: 1) { g in g.rule(full: 0) }
                                     : array(limit: Limits.rules, typical: 3, full: 0) { g in g.rule() }
            return .ruleSet(RuleSet(version: u64(), rules: rules, options: options()))
        case .ruleSetAck:
            return .ruleSetAck(RuleSetAck(ruleSetVersion: u64(), accepted: chance(0.5), detail: string(limit: Limits.text)))
        case .programBundle:
            return .programBundle(ProgramBundle(
                name: string(limit: Limits.label), version: string(limit: Limits.label),
                sha256: (0..<32).map { _ in UInt8.random(in: 0...255, using: &rng) },
                signature: (0..<64).map { _ in UInt8.random(in: 0...255, using: &rng) },
                signerKeyId: string(limit: Limits.label),
                // Limit-sized objects and logs are covered by limitSizedFieldsRoundTrip.
                object: bytes(limit: 65_536, typical: 512),
                canaryPercent: chance(0.3) ? UInt8.random(in: 1...100, using: &rng) : nil))
        case .programStatus:
            return .programStatus(ProgramStatus(
                name: string(limit: Limits.label), version: string(limit: Limits.label),
                state: ProgramState.allCases.randomElement(using: &rng)!,
                verifierLog: string(limit: chance(0.01) ? 65_536 : 200),
                error: chance(0.5) ? string(limit: Limits.text) : nil))
        case .flowBatch:
            return .flowBatch(FlowBatch(agentId: string(limit: Limits.name), sequence: u64(),
                                        format: RecordFormat(rawValue: UInt8.random(in: 0...255, using: &rng)),
                                        records: records()))
        case .ack:
            return .ack(Ack(sequence: u64(), cumulative: chance(0.5)))
        case .subscribe:
            return .subscribe(Subscribe(namespace: string(limit: Limits.label), pod: string(limit: Limits.name),
                                        service: string(limit: Limits.name), kind: string(limit: Limits.label),
                                        protocol: string(limit: Limits.label), status: string(limit: Limits.label),
                                        anomaliesOnly: chance(0.5), replayLast: chance(0.5) ? UInt32.random(in: 1...UInt32.max, using: &rng) : 0,
                                        match: chance(0.5) ? StreamMatch(include: clauses(), exclude: clauses()) : StreamMatch(),
                                        sinceNs: chance(0.5) ? u64() : 0, untilNs: chance(0.5) ? u64() : 0))
        case .streamBatch:
            return .streamBatch(StreamBatch(sequence: u64(), dropped: u64(),
                                            format: RecordFormat(rawValue: UInt8.random(in: 0...255, using: &rng)),
                                            records: records(), replayEnd: chance(0.3)))
        case .agentListRequest:
            return .agentListRequest(AgentListRequest())
        case .agentList:
            return .agentList(AgentList(timestampNs: u64(), agents: array(limit: Limits.agents, typical: 3, full: 0) { g in
                AgentStatus(nodeName: g.string(limit: Limits.name), identity: g.string(limit: Limits.name),
                            connected: g.chance(0.5), programVersion: g.string(limit: Limits.label),
                            rulesVersion: g.u64(), detail: g.string(limit: Limits.text), ackedSequence: g.u64(),
                            seenSequence: g.u64(), lastBatchNs: g.u64(), lostRecords: g.u64(),
                            counters: g.array(limit: Limits.counters) { g in Counter(g.string(limit: Limits.label), g.u64()) },
                            hooks: g.chance(0.5) ? g.hooks() : [],
                            programVersions: g.chance(0.5) ? g.programVersions() : [])
            }))
        default:
            fatalError("no generator for \(type)")
        }
    }
}

let allMessageTypes: [MessageType] = [.hello, .helloAccept, .heartbeat, .error, .ruleSet, .ruleSetAck,
                                      .programBundle, .programStatus, .flowBatch, .ack, .subscribe, .streamBatch,
                                      .agentListRequest, .agentList]
