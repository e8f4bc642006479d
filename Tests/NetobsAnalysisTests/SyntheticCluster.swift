import Foundation
@testable import NetobsAnalysis

/// A synthetic but realistic microservice run: the sock-shop call graph (loadgen → front-end →
/// catalogue / carts / orders; orders → user / carts / payment / shipping; carts → carts-db over
/// plain TCP), kube-dns lookups, per-exchange HTTP records from both ends, per-interval TCP
/// flow records (with the reporting process' pid) and request/response turns, with noise, and
/// injected faults with their labels. Each fault moves what the same fault of `netobs demo`
/// moves on the real system (seen in its recorded runs):
/// - delay d: the application sleeps d before answering: the pod's own answer time and its
///   clients' view grow by d, steadily; RTT does not move;
/// - cpu: the pod's processes starved (a CFS quota): most answers wait for a later period,
///   0-W ms, erratically; RTT does not move;
/// - loss p: packets to and from it are lost: retransmits on its flows, drops (NETFILTER_DROP)
///   at it, retransmission timeouts in the latency tail, now and then a connection whose SYN
///   never got through (a connect timeout);
/// - bandwidth: what it sends waits in a queue of q ms: RTT of its flows, its clients' view of
///   its answers and its own calls grow by q (its own answer time does not), a few drops;
/// - reset f: a share f of the connections to it are refused or reset (RST), 502 upstream;
/// - kill: it is down: every connection refused, nothing served, no lookups, no calls; it comes
///   back with a new process;
/// - partition from a caller: that caller's connections to it are never answered (SYN
///   retransmits, a 3 s connect timeout, 504 upstream), its other clients are served;
/// - dns: its name does not resolve (NXDOMAIN) for its callers, whose calls to it fail (503).
struct SyntheticCluster {
    static let namespace = "sock-shop"
    static let intervalNs: UInt64 = 1_000_000_000
    static let epochNs: UInt64 = 1_700_000_000 * 1_000_000_000

    struct Call { var callee: String; var uri: String }

    struct Service {
        var baseMs: Double
        /// URI → calls it makes.
        var routes: [String: [Call]]
    }

    static let services: [String: Service] = [
        "front-end": Service(baseMs: 2, routes: [
            "/": [], "/catalogue": [Call(callee: "catalogue", uri: "/catalogue")],
            "/detail/808a2de1": [Call(callee: "catalogue", uri: "/catalogue/808a2de1")],
            "/cart": [Call(callee: "carts", uri: "/carts/1/items")],
            "/orders": [Call(callee: "orders", uri: "/orders")],
        ]),
        "catalogue": Service(baseMs: 3, routes: ["/catalogue": [], "/catalogue/808a2de1": []]),
        "carts": Service(baseMs: 2, routes: ["/carts/1/items": []]),
        "orders": Service(baseMs: 4, routes: ["/orders": [
            Call(callee: "user", uri: "/customers/1"), Call(callee: "carts", uri: "/carts/1/items"),
            Call(callee: "payment", uri: "/paymentAuth"), Call(callee: "shipping", uri: "/shipping"),
        ]]),
        "user": Service(baseMs: 1.5, routes: ["/customers/1": []]),
        "payment": Service(baseMs: 1.5, routes: ["/paymentAuth": []]),
        "shipping": Service(baseMs: 1.5, routes: ["/shipping": []]),
    ]
    static let frontURIs: [(String, Double)] = [("/", 0.2), ("/catalogue", 0.25), ("/detail/808a2de1", 0.2),
                                                ("/cart", 0.2), ("/orders", 0.15)]
    /// Who calls whom (carts → carts-db is Redis, plain TCP).
    static let callers: [String: [String]] = [
        "front-end": ["loadgen"], "catalogue": ["front-end"], "carts": ["front-end", "orders"], "orders": ["front-end"],
        "user": ["orders"], "payment": ["orders"], "shipping": ["orders"], "carts-db": ["carts"],
    ]
    static let appPods = ["front-end", "catalogue", "carts", "carts-db", "orders", "user", "payment", "shipping"]
    /// The pods each kind may hit (as `netobs demo` allows: no application delay or CPU cap on
    /// Redis, no lookup fault on a name only the load generator resolves).
    static let faultPods: [FaultKind: [String]] = [
        .delay: appPods.filter { $0 != "carts-db" },
        .cpu: appPods.filter { $0 != "carts-db" },
        .loss: appPods, .bandwidth: appPods, .reset: appPods, .kill: appPods,
        .dns: appPods.filter { $0 != "front-end" },
        .partition: appPods.filter { $0 != "front-end" },
    ]

    struct Fault {
        var pod: String
        var kind: FaultKind
        var start: Int
        var end: Int
        var magnitude: Double
        /// A partition's other end (a caller of `pod`).
        var peer: String?
    }

    var rng: SeededRandom
    var faults: [Fault] = []
    var records: [FlowRecord] = []
    let intervals: Int
    let requestRate: Double

    /// `faults` faults of distinct kinds (a shuffle of all eight), 30-50 s each with 35-50 s
    /// between them, now and then (p 0.3) the next one during the previous, on a pod that
    /// neither is nor talks to its pods.
    init(seed: UInt64, requestRate: Double = 30, faults count: Int = 4) {
        rng = SeededRandom(seed: seed)
        self.requestRate = requestRate
        var t = Int(rng.uniform(80, 100))
        let kinds = rng.shuffled(FaultKind.allCases)
        var overlapped = false
        for i in 0..<count {
            let kind = kinds[i % kinds.count]
            let length = Int(rng.uniform(30, 50))
            var start = t
            var avoid = Set<String>()
            if let previous = faults.last, !overlapped, rng.chance(0.3) {
                start = previous.start + Int(rng.uniform(8, Double(previous.end - previous.start - 10)))
                for pod in [previous.pod] + (previous.peer.map { [$0] } ?? []) {
                    avoid.formUnion([pod] + Self.neighbours(pod))
                }
            }
            let candidates = Self.faultPods[kind]!.filter { pod in
                !avoid.contains(pod) && (kind != .partition || Self.callers[pod]!.contains { $0 != "loadgen" && !avoid.contains($0) })
            }
            guard !candidates.isEmpty else { continue }
            let pod = rng.pick(candidates)
            let magnitude: Double = switch kind {
            case .delay: rng.uniform(0.06, 0.4) * 1e9
            case .cpu: rng.uniform(0.05, 0.2) * 1e9
            case .loss: rng.uniform(0.15, 0.4)
            case .bandwidth: rng.uniform(0.1, 0.35) * 1e9
            case .reset: rng.uniform(0.3, 0.9)
            case .kill, .partition, .dns: 1
            }
            let peer = kind == .partition ? rng.pick(Self.callers[pod]!.filter { $0 != "loadgen" && !avoid.contains($0) }) : nil
            overlapped = start < t
            faults.append(Fault(pod: pod, kind: kind, start: start, end: start + length, magnitude: magnitude, peer: peer))
            t = max(t, start + length + Int(rng.uniform(35, 50)))
        }
        intervals = t
    }

    /// Given faults, on a run of `intervals`.
    init(seed: UInt64, faults: [Fault], intervals: Int, requestRate: Double = 30) {
        rng = SeededRandom(seed: seed)
        self.requestRate = requestRate
        self.faults = faults
        self.intervals = intervals
    }

    static func neighbours(_ pod: String) -> [String] {
        (callers[pod] ?? []) + callers.filter { $0.value.contains(pod) }.map(\.key)
    }

    var labels: [FaultLabel] {
        faults.map {
            FaultLabel(startNs: Self.epochNs + UInt64($0.start) * Self.intervalNs + 300_000_000,
                       endNs: Self.epochNs + UInt64($0.end) * Self.intervalNs + 300_000_000,
                       pod: $0.pod, namespace: Self.namespace, kind: $0.kind.rawValue,
                       peer: $0.peer, peerNamespace: $0.peer.map { _ in Self.namespace })
        }
    }

    /// The whole run. Faults start 0.3 s into their interval, as a real injection would.
    static func run(seed: UInt64) -> Training.Run {
        var cluster = SyntheticCluster(seed: seed)
        cluster.generate()
        return Training.Run(name: "seed-\(seed)", records: cluster.records, labels: cluster.labels)
    }

    // MARK: - generation

    struct FlowStats {
        var retransmits = 0.0, drops = 0.0, dropsAt: String?, refused = 0.0, timeouts = 0.0, exchanges = 0
        var rttExtra = 0.0
    }
    private var flows: [Pair: FlowStats] = [:]
    private var turns: [Pair: [Double]] = [:]
    private var now: UInt64 = 0
    private var active: [Fault] = []
    private var pids: [String: Int32] = [:]

    struct Pair: Hashable { var client: String; var server: String }

    mutating func generate() {
        for (i, pod) in (["loadgen"] + Self.appPods).enumerated() { pids[pod] = Int32(1000 + i) }
        for k in 0..<intervals {
            let startNs = Self.epochNs + UInt64(k) * Self.intervalNs
            // A fault covers an interval from its start (0.3 s in) to its end.
            let before = active
            active = faults.filter { k >= $0.start && k < $0.end || (k == $0.end && rng.chance(0.3)) }
            for ended in before where ended.kind == .kill && !active.contains(where: { $0.pod == ended.pod && $0.kind == .kill }) {
                pids[ended.pod]! += 100   // restarted: a new process
            }
            flows = [:]
            turns = [:]
            let wave: Double = 1 + 0.2 * sin(2 * Double.pi * Double(k) / 90)
            let load: Double = requestRate * wave * rng.uniform(0.9, 1.1)
            for _ in 0..<rng.poisson(load) {
                now = startNs + UInt64(rng.uniform(0, 0.95) * Double(Self.intervalNs))
                _ = exchange(client: "loadgen", server: "front-end", uri: pickFrontURI())
            }
            for pod in ["front-end", "orders", "carts"] where fault(.kill, on: pod) == nil { lookups(from: pod) }
            now = startNs + 990_000_000
            flushFlows()
        }
    }

    private mutating func pickFrontURI() -> String {
        var u = rng.uniform()
        for (uri, w) in Self.frontURIs {
            u -= w
            if u < 0 { return uri }
        }
        return "/"
    }

    private func fault(_ kind: FaultKind, on pod: String) -> Fault? {
        active.first { $0.kind == kind && $0.pod == pod }
    }

    private func partitioned(_ a: String, _ b: String) -> Bool {
        active.contains { $0.kind == .partition && (($0.pod == a && $0.peer == b) || ($0.pod == b && $0.peer == a)) }
    }

    /// Whether a connection from `client` to `server` gets anywhere: nil when it does, else the
    /// client's wait (refused at once, or a connect timeout after SYN retransmissions).
    private mutating func connect(_ pair: Pair) -> Double? {
        if fault(.kill, on: pair.server) != nil || fault(.reset, on: pair.server).map({ rng.chance($0.magnitude) }) == true {
            flows[pair]!.refused += 1
            return rng.lognormal(median: 0.2e6, sigma: 0.3)
        }
        if partitioned(pair.client, pair.server) {
            flows[pair]!.timeouts += 1
            flows[pair]!.retransmits += 2   // the SYN, sent again at 1 s and 3 s
            return 3e9
        }
        for pod in [pair.client, pair.server] {
            // A SYN lost twice: the connect times out.
            if let f = fault(.loss, on: pod), rng.chance(f.magnitude * f.magnitude * 0.5) {
                flows[pair]!.timeouts += 1
                flows[pair]!.retransmits += 2
                return 3e9
            }
        }
        return nil
    }

    /// One HTTP exchange with its downstream calls; returns (client-view duration ns, success).
    private mutating func exchange(client: String, server: String, uri: String) -> (Double, Bool) {
        let pair = Pair(client: client, server: server)
        flows[pair, default: FlowStats()].exchanges += 1
        if let wait = connect(pair) { return (wait, false) }
        let service = Self.services[server]!
        var serverView = rng.lognormal(median: service.baseMs * 1e6, sigma: 0.35)
        if let f = fault(.delay, on: server) { serverView += f.magnitude }
        if let f = fault(.cpu, on: server), rng.chance(0.75) { serverView += rng.uniform(0.02, 1) * f.magnitude }
        var status = rng.chance(0.002) ? 500 : 200
        for call in service.routes[uri] ?? [] {
            if fault(.dns, on: call.callee) != nil {
                dnsRecord(from: server, domain: domain(call.callee), code: "NXDOMAIN")
                status = 503
                break
            }
            let (d, ok) = exchange(client: server, server: call.callee, uri: call.uri)
            serverView += d
            if !ok { status = d >= 3e9 ? 504 : 502; break }
        }
        if server == "carts" && status == 200 {
            // carts reads carts-db over plain TCP: request/response turns.
            if fault(.dns, on: "carts-db") != nil {
                dnsRecord(from: server, domain: domain("carts-db"), code: "NXDOMAIN")
                status = 500
            } else {
                let (d, ok) = turn(client: "carts", server: "carts-db")
                serverView += d
                if !ok { status = 500 }
            }
        }
        var clientView = serverView + rtt(client, server)
        clientView += networkPenalty(client, server, packets: 4, pair: pair)
        emitHTTP(client: client, server: server, uri: uri, status: status, clientView: clientView, serverView: serverView)
        return (clientView, status < 500)
    }

    private mutating func turn(client: String, server: String) -> (Double, Bool) {
        let pair = Pair(client: client, server: server)
        flows[pair, default: FlowStats()].exchanges += 1
        if let wait = connect(pair) { return (wait, false) }
        var d = rng.lognormal(median: 0.8e6, sigma: 0.3) + rtt(client, server)
        d += networkPenalty(client, server, packets: 2, pair: pair)
        turns[pair, default: []].append(d)
        return (d, true)
    }

    /// A capped sender's queue delays what it sends; loss costs retransmission timeouts per lost packet.
    private mutating func networkPenalty(_ a: String, _ b: String, packets: Int, pair: Pair) -> Double {
        var extra = 0.0
        for pod in [a, b] {
            guard let f = fault(.bandwidth, on: pod) else { continue }
            let queue = rng.uniform(0.5, 1) * f.magnitude
            extra += queue
            flows[pair]!.rttExtra = max(flows[pair]!.rttExtra, queue)
            if rng.chance(0.1) {
                flows[pair]!.retransmits += 1
                extra += rng.uniform(0.2e9, 0.25e9)
            }
        }
        for pod in [a, b] {
            guard let f = fault(.loss, on: pod) else { continue }
            let lost = rng.binomial(packets, f.magnitude)
            if lost > 0 {
                flows[pair]!.retransmits += Double(lost)
                let dropped = Double(rng.binomial(lost, 0.5))
                flows[pair]!.drops += dropped
                if dropped > 0 { flows[pair]!.dropsAt = pod }
                extra += Double(lost) * rng.uniform(0.2e9, 0.25e9)
            }
        }
        return extra
    }

    private mutating func rtt(_ a: String, _ b: String) -> Double {
        rng.lognormal(median: 80_000, sigma: 0.3)
    }

    private func domain(_ pod: String) -> String { "\(pod).\(Self.namespace).svc.cluster.local" }

    private mutating func lookups(from pod: String) {
        let callees = Set((Self.services[pod]?.routes.values.flatMap { $0.map(\.callee) } ?? []) + (pod == "carts" ? ["carts-db"] : []))
        for callee in callees.sorted() {
            for _ in 0..<rng.poisson(1.5) {
                dnsRecord(from: pod, domain: domain(callee), code: fault(.dns, on: callee) != nil ? "NXDOMAIN" : "NOERROR")
            }
            // Search-path expansions answer NXDOMAIN all the time.
            for _ in 0..<rng.poisson(0.8) { dnsRecord(from: pod, domain: domain(callee) + ".cluster.local", code: "NXDOMAIN") }
        }
    }

    private mutating func dnsRecord(from pod: String, domain: String, code: String) {
        let duration = rng.lognormal(median: 0.4e6, sigma: 0.4)
        for role in ["client", "server"] {
            var r = FlowRecord(kind: "dns", tsNs: now + UInt64(rng.uniform(0, 5e6)))
            r.role = role
            r.srcPod = role == "client" ? qualified(pod) : "kube-system/kube-dns"
            r.dstPod = role == "client" ? "kube-system/kube-dns" : qualified(pod)
            r.dnsDomain = domain
            r.dnsResponseCode = code
            r.dnsDurationNs = duration
            records.append(r)
        }
    }

    private func qualified(_ name: String) -> String { Self.namespace + "/" + name }

    private mutating func emitHTTP(client: String, server: String, uri: String, status: Int, clientView: Double, serverView: Double) {
        for (role, duration) in [("client", clientView), ("server", serverView)] {
            var r = FlowRecord(kind: "http", tsNs: now + UInt64(duration))
            r.role = role
            r.srcPod = qualified(role == "client" ? client : server)
            r.dstPod = qualified(role == "client" ? server : client)
            r.httpURI = uri
            r.httpStatus = status
            r.httpDurationNs = duration
            records.append(r)
        }
    }

    /// One TCP record per side per connection for the interval (plus failed connects), and the
    /// turn records of plain TCP connections.
    private mutating func flushFlows() {
        for (pair, s) in flows.sorted(by: { ($0.key.client, $0.key.server) < ($1.key.client, $1.key.server) }) {
            let noise = Double(rng.poisson(0.05))
            let retransmits = s.retransmits + noise
            let clientShare = Double(rng.binomial(Int(retransmits), 0.5))
            let answered = s.exchanges > Int(s.refused + s.timeouts)
            for role in ["client", "server"] where role == "client" || answered {
                let local = role == "client" ? pair.client : pair.server
                var r = FlowRecord(kind: "tcp", tsNs: now)
                r.role = role
                r.pid = pids[local] ?? 0
                r.srcPod = qualified(local)
                r.dstPod = qualified(role == "client" ? pair.server : pair.client)
                r.tcpRetransmit = role == "client" ? clientShare : retransmits - clientShare
                if s.dropsAt == local {
                    r.tcpDrop = s.drops
                    r.tcpDropReasons = ["NETFILTER_DROP"]
                }
                if answered { r.tcpRttNs = rtt(pair.client, pair.server) + s.rttExtra * rng.uniform(0.7, 1) }
                records.append(r)
            }
            for (n, error) in [(s.refused, "ECONNREFUSED"), (s.timeouts, nil)] as [(Double, String?)] {
                for _ in 0..<Int(n) {
                    var r = FlowRecord(kind: "tcp", tsNs: now)
                    r.role = "client"
                    r.pid = pids[pair.client] ?? 0
                    r.srcPod = qualified(pair.client)
                    r.dstPod = qualified(pair.server)
                    r.tcpConnectFailed = true
                    r.tcpError = error
                    records.append(r)
                }
            }
        }
        for (pair, latencies) in turns {
            var r = FlowRecord(kind: "tcp_latency", tsNs: now)
            r.role = "client"
            r.srcPod = qualified(pair.client)
            r.dstPod = qualified(pair.server)
            r.count = Double(latencies.count)
            r.turnLatencyP99Ns = latencies.max()
            records.append(r)
        }
    }
}
