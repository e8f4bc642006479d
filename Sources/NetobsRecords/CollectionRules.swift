import Foundation

/// What the agent collects, applied through the kernel's filter maps with no program reload
/// (`netobs-agent --rules FILE`, re-read at SIGHUP). Rules act where a flow is created: a flow
/// a rule keeps out is not collected (not counted as lost); a flow already collected stays.
///
/// File format (JSON, every key optional; `{}` collects everything):
///
///     {
///       "ports":   { "mode": "exclude", "values": [8080, "9000-9100"] },  // local or remote port
///       "cgroups": { "mode": "include", "values": [12345] },       // cgroup v2 ids (pods)
///       "pods":    { "mode": "include", "namespaces": ["shop"],    // or by Kubernetes identity
///                    "names": ["shop/web-0"], "labels": {"app": "web"} },  // (controller only)
///       "protocols": ["tcp", "udp"],                               // collected L4 protocols
///       "sample_every": 10,                                        // keep 1 flow in 10
///       "l7": true,                                                // http/dns/latency programs
///       "l7_sample_every": 100,                                    // http/dns exemplars: 1 in 100 per key
///       "l7_slow_ms": 1000,                                        // ... and every exchange this slow
///       "tls": true,                                               // TLS plaintext probes (OpenSSL uprobes)
///       "tls_binaries": { "mode": "exclude", "values": ["curl"] }  // ... per executable file name
///     }
///
/// `mode` is "include" (only matching flows) or "exclude" (all but matching flows). `pods`
/// needs the controller, which resolves it against the cluster's pods into each node's pod
/// UIDs; the agent selects those pods' cgroups (`podUIDs`), re-read as containers come and go.
/// `cgroups` and `pods` are two ways to select the same thing: a file uses one. HTTP and
/// DNS exchanges are always counted in `http_aggregate`/`dns_aggregate` records; the `l7_*`
/// settings choose which also become `http`/`dns` exemplar records (errors always do):
/// `l7_sample_every` 0 samples none, 1 all; `l7_slow_ms` 0 turns the slow ones off.
public struct CollectionRules: Equatable, Sendable {
    public enum Mode: String, Sendable { case include, exclude }
    public struct Filter<Value: Hashable & Sendable>: Equatable, Sendable {
        public var mode: Mode
        public var values: Set<Value>
        public init(mode: Mode, values: Set<Value>) {
            self.mode = mode
            self.values = values
        }
    }

    public var ports: Filter<UInt16>?
    public var cgroups: Filter<UInt64>?
    /// Pods by namespace, name and labels, as the operator wrote them (resolved by the controller).
    public var pods: PodSelector?
    /// The pods of one node that `pods` selects, by UID: what the controller sends that node's agent.
    public var podUIDs: Filter<String>?
    public var tcp = true
    public var udp = true
    /// Keep 1 flow in N (1: all).
    public var sampleEvery: UInt32 = 1
    public var l7 = true
    /// HTTP/DNS exemplars: the first exchange of each aggregate key, then 1 in N (0: none).
    /// 100 keeps the records of a busy key to 1% of its exchanges (the agent's cost per
    /// exchange falls below that of the aggregate), while a key seen a few times still shows one.
    public var l7SampleEvery: UInt32 = Self.defaultL7SampleEvery
    /// HTTP/DNS exemplars: every exchange that took at least this long (0: off). A second is
    /// slower than any healthy request and than the delays fault drills inject (tens to hundreds
    /// of ms), so a latency fault shows in the aggregates' percentiles without flooding records.
    public var l7SlowMs: UInt32 = Self.defaultL7SlowMs
    /// HTTP over TLS from OpenSSL's plaintext (uprobes): off, the probes stay attached and
    /// return at once.
    public var tls = true
    /// TLS probes per program: process names (the executable's file name as exec sets it,
    /// e.g. "nginx"; the first 15 bytes count): only these (include) or all but these
    /// (exclude). nil: every process.
    public var tlsBinaries: Filter<String>?
    public static let maxTLSBinaries = 256

    public static let defaultL7SampleEvery: UInt32 = 100
    public static let defaultL7SlowMs: UInt32 = 1000

    /// Capacities of the kernel's sets (bpf/l4.bpf.c netobs_rule_ports / netobs_rule_cgroups).
    public static let maxPorts = 1024
    public static let maxCgroups = 4096

    public init() {}

    public struct Invalid: Error, CustomStringConvertible, Equatable {
        public let message: String
        public init(_ message: String) { self.message = message }
        public var description: String { message }
    }

    public static func load(path: String) throws(Invalid) -> CollectionRules {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw Invalid("rules file \(path): cannot be read")
        }
        do throws(Invalid) {
            return try parse(data)
        } catch {
            throw Invalid("rules file \(path): \(error.message)")
        }
    }

    public static func parse(_ text: String) throws(Invalid) -> CollectionRules { try parse(Data(text.utf8)) }

    public static func parse(_ data: Data) throws(Invalid) -> CollectionRules {
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: data)
        } catch {
            throw Invalid("not valid JSON")
        }
        guard let top = object as? [String: Any] else { throw Invalid("the top level must be a JSON object") }
        let known: Set = ["ports", "cgroups", "pods", "protocols", "sample_every", "l7", "l7_sample_every", "l7_slow_ms", "tls", "tls_binaries"]
        if let unknown = top.keys.sorted().first(where: { !known.contains($0) }) {
            throw Invalid("unknown key \"\(unknown)\" (known: \(known.sorted().joined(separator: ", ")))")
        }
        var rules = CollectionRules()
        if let p = top["ports"] { rules.ports = try portFilter(p) }
        if let c = top["cgroups"] {
            rules.cgroups = try filter(c, key: "cgroups", max: maxCgroups) { n throws(Invalid) in
                guard let v = UInt64(exactly: n), v > 0 else { throw Invalid("cgroups: \(n) is not a cgroup id") }
                return v
            }
        }
        if let p = top["pods"] {
            guard rules.cgroups == nil else {
                throw Invalid("cgroups and pods both select pods: use one of them (pods by identity, cgroups by id)")
            }
            rules.pods = try PodSelector.parse(p)
        }
        if let p = top["protocols"] {
            guard let list = p as? [String] else { throw Invalid("protocols: must be a list of \"tcp\", \"udp\"") }
            rules.tcp = false
            rules.udp = false
            for name in list {
                switch name.lowercased() {
                case "tcp": rules.tcp = true
                case "udp": rules.udp = true
                default: throw Invalid("protocols: unknown protocol \"\(name)\" (tcp, udp)")
                }
            }
        }
        if let s = top["sample_every"] {
            guard let n = number(s), let v = UInt32(exactly: n), v >= 1 else {
                throw Invalid("sample_every: must be a whole number >= 1")
            }
            rules.sampleEvery = v
        }
        if let n = top["l7_sample_every"] {
            guard let d = number(n), let v = UInt32(exactly: d) else {
                throw Invalid("l7_sample_every: must be a whole number >= 0 (0: no samples, 1: every exchange)")
            }
            rules.l7SampleEvery = v
        }
        if let n = top["l7_slow_ms"] {
            guard let d = number(n), let v = UInt32(exactly: d) else {
                throw Invalid("l7_slow_ms: must be a whole number of milliseconds >= 0 (0: off)")
            }
            rules.l7SlowMs = v
        }
        if let l = top["l7"] {
            guard isBool(l), let n = l as? NSNumber else {
                throw Invalid("l7: must be true or false")
            }
            rules.l7 = n.boolValue
        }
        if let b = top["tls_binaries"] {
            guard let object = b as? [String: Any], let modeName = object["mode"] as? String,
                  let mode = Mode(rawValue: modeName), let values = object["values"] as? [String],
                  object.keys.allSatisfy({ $0 == "mode" || $0 == "values" }) else {
                throw Invalid("tls_binaries: must be {\"mode\": \"include\"|\"exclude\", \"values\": [\"name\", ...]}")
            }
            guard values.allSatisfy({ !$0.isEmpty && !$0.contains("/") && !$0.contains(",") }) else {
                throw Invalid("tls_binaries: values are executable file names (no '/' or ',')")
            }
            guard values.count <= maxTLSBinaries else { throw Invalid("tls_binaries: at most \(maxTLSBinaries) names") }
            rules.tlsBinaries = Filter(mode: mode, values: Set(values))
        }
        if let t = top["tls"] {
            guard isBool(t), let n = t as? NSNumber else { throw Invalid("tls: must be true or false") }
            rules.tls = n.boolValue
        }
        return rules
    }

    /// A JSON true/false (Foundation hands those out as a boolean NSNumber, objCType "c").
    private static func isBool(_ value: Any) -> Bool {
        guard let n = value as? NSNumber else { return false }
        return String(cString: n.objCType) == "c"
    }

    private static func number(_ value: Any) -> Double? {
        guard !isBool(value), let n = value as? NSNumber else { return nil }
        return n.doubleValue
    }

    /// Ports as numbers, or as text: "PORT" or a "FIRST-LAST" range.
    private static func portFilter(_ value: Any) throws(Invalid) -> Filter<UInt16> {
        func port(_ n: Double) throws(Invalid) -> UInt16 {
            guard let v = UInt16(exactly: n), v > 0 else { throw Invalid("ports: \(n) is not a port (1-65535)") }
            return v
        }
        var ranges: [String] = []
        var numbers: [Any] = []
        if let object = value as? [String: Any], let list = object["values"] as? [Any] {
            for item in list {
                if let text = item as? String { ranges.append(text) } else { numbers.append(item) }
            }
        }
        var filter = try self.filter(replacingValues(value, with: numbers), key: "ports", max: maxPorts, convert: port)
        for text in ranges {
            let ends = text.split(separator: "-", omittingEmptySubsequences: false)
            guard (1...2).contains(ends.count), let a = Double(ends[0]), let b = Double(ends[ends.count - 1]) else {
                throw Invalid("ports: \"\(text)\" is not a port or a range FIRST-LAST")
            }
            let (first, last) = (try port(a), try port(b))
            guard first <= last else { throw Invalid("ports: range \"\(text)\" ends before it starts") }
            guard filter.values.count + Int(last - first) < maxPorts else {
                throw Invalid("ports: more than \(maxPorts) ports in all (a range counts each of its ports)")
            }
            filter.values.formUnion(first...last)
        }
        guard filter.values.count <= maxPorts else { throw Invalid("ports: \(filter.values.count) ports, at most \(maxPorts)") }
        return filter
    }

    private static func replacingValues(_ value: Any, with values: [Any]) -> Any {
        guard var object = value as? [String: Any], object["values"] is [Any] else { return value }
        object["values"] = values
        return object
    }

    private static func filter<V>(_ value: Any, key: String, max: Int,
                                  convert: (Double) throws(Invalid) -> V) throws(Invalid) -> Filter<V> {
        guard let object = value as? [String: Any] else {
            throw Invalid("\(key): must be an object {\"mode\": \"include\"|\"exclude\", \"values\": [...]}")
        }
        if let unknown = object.keys.sorted().first(where: { $0 != "mode" && $0 != "values" }) {
            throw Invalid("\(key): unknown key \"\(unknown)\" (mode, values)")
        }
        guard let modeName = object["mode"] as? String, let mode = Mode(rawValue: modeName) else {
            throw Invalid("\(key): mode must be \"include\" or \"exclude\"")
        }
        guard let list = object["values"] as? [Any] else { throw Invalid("\(key): values must be a list") }
        var values = Set<V>()
        for item in list {
            guard let n = number(item) else { throw Invalid("\(key): \(item) is not a number") }
            values.insert(try convert(n))
        }
        guard values.count <= max else { throw Invalid("\(key): \(values.count) values, at most \(max)") }
        return Filter(mode: mode, values: values)
    }

    /// One line for the log.
    public var summary: String {
        var parts: [String] = []
        if let ports { parts.append("ports \(ports.mode.rawValue) \(ports.values.sorted().map(String.init).joined(separator: ","))") }
        if let cgroups { parts.append("cgroups \(cgroups.mode.rawValue) \(cgroups.values.count)") }
        if let pods { parts.append(pods.summary) }
        if let podUIDs { parts.append("pods \(podUIDs.mode.rawValue) \(podUIDs.values.count) of this node") }
        if !(tcp && udp) { parts.append("protocols \([tcp ? "tcp" : nil, udp ? "udp" : nil].compactMap { $0 }.joined(separator: ","))") }
        if sampleEvery > 1 { parts.append("1 flow in \(sampleEvery)") }
        if !l7 { parts.append("l7 off") }
        if !tls { parts.append("tls off") }
        if let tlsBinaries { parts.append("tls \(tlsBinaries.mode.rawValue) \(tlsBinaries.values.sorted().joined(separator: ","))") }
        if l7 && (l7SampleEvery, l7SlowMs) != (Self.defaultL7SampleEvery, Self.defaultL7SlowMs) {
            let sample = l7SampleEvery == 0 ? "no" : "1 in \(l7SampleEvery)"
            let slow = l7SlowMs == 0 ? "" : ", slow from \(l7SlowMs) ms"
            parts.append("l7 exemplars: \(sample) per key\(slow)")
        }
        return parts.isEmpty ? "collect everything" : parts.joined(separator: "; ")
    }

    /// Whether the port and cgroup filters let a flow in, as the kernel programs judge one at its
    /// start (a port matches when the local or the remote one is listed; port 0 never matches).
    /// For what the agent judges in user space: HTTP over TLS, read by uprobes.
    public func admits(cgroupID: UInt64, localPort: UInt16, remotePort: UInt16) -> Bool {
        if let ports {
            let hit = (localPort != 0 && ports.values.contains(localPort)) || (remotePort != 0 && ports.values.contains(remotePort))
            if hit != (ports.mode == .include) { return false }
        }
        if let cgroups, cgroups.values.contains(cgroupID) != (cgroups.mode == .include) { return false }
        return true
    }

    /// Why an agent cannot apply these rules by itself (nil: it can): a pod selector needs the
    /// cluster's pods, which only the controller knows.
    public var needsController: String? {
        guard pods != nil else { return nil }
        return "\"pods\" selects pods by namespace, name or labels, which the controller resolves (netobs rules push); "
            + "an agent's own rules select pods by \"cgroups\""
    }

    /// These rules for one node: the pod selector replaced by the UIDs of that node's pods it selects.
    public func resolved(podUIDs uids: Set<String>) -> CollectionRules {
        guard let pods else { return self }
        var node = self
        node.pods = nil
        node.podUIDs = Filter(mode: pods.mode, values: uids)
        return node
    }

    /// What the kernel maps take: the selected pods' UIDs replaced by the cgroups found for them.
    public func withPodCgroups(_ ids: Set<UInt64>) -> CollectionRules {
        guard let podUIDs else { return self }
        var rules = self
        rules.podUIDs = nil
        rules.cgroups = Filter(mode: podUIDs.mode, values: ids)
        return rules
    }
}
