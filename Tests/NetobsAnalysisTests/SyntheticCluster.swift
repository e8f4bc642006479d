import Foundation
@testable import NetobsAnalysis

/// A synthetic but realistic microservice run: the sock-shop call graph (loadgen → front-end →
/// catalogue / carts / orders; orders → user / carts / payment / shipping; carts → carts-db over
/// plain TCP), kube-dns lookups, per-exchange HTTP records from both ends, per-interval TCP
/// flow records and request/response turns, with noise, and injected faults with their labels:
/// - delay d on a pod: every packet it sends waits d (netem on its egress): the latency its
///   callers see and the latency of its own calls grow by d, the RTT of all its flows too;
/// - loss p: packets to and from it are lost: retransmits on its flows, drops (NETFILTER_DROP)
///   at it, retransmission timeouts in the latency tail;
/// - reset f: a share f of connections to it are refused (failed connects, 502s upstream);
/// - dns f: a share f of its lookups fail (NXDOMAIN / SERVFAIL / timeouts), so do those calls.
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
    static let faultPods: [FaultKind: [String]] = [
        .delay: ["front-end", "catalogue", "carts", "orders", "user", "payment", "shipping", "carts-db"],
        .loss: ["front-end", "catalogue", "carts", "orders", "user", "payment", "shipping", "carts-db"],
        .reset: ["catalogue", "carts", "orders", "user", "payment", "shipping", "carts-db"],
        .dns: ["front-end", "orders", "carts"],
    ]

    struct Fault {
        var pod: String
        var kind: FaultKind
        var start: Int
        var end: Int
        var magnitude: Double
    }

    var rng: SeededRandom
    var faults: [Fault] = []
    var records: [FlowRecord] = []
    let intervals: Int
    let requestRate: Double

    init(seed: UInt64, requestRate: Double = 15) {
        rng = SeededRandom(seed: seed)
        self.requestRate = requestRate
        var t = Int(rng.uniform(80, 100))
        for kind in rng.shuffled(FaultKind.allCases) {
            let length = Int(rng.uniform(30, 60))
            let magnitude: Double = switch kind {
            case .delay: rng.uniform(0.05, 0.2) * 1e9
            case .loss: rng.uniform(0.1, 0.3)
            case .reset: rng.uniform(0.5, 1)
            case .dns: rng.uniform(0.5, 1)
            }
            faults.append(Fault(pod: rng.pick(Self.faultPods[kind]!), kind: kind, start: t, end: t + length, magnitude: magnitude))
            t += length + Int(rng.uniform(45, 70))
        }
        intervals = t
    }

    var labels: [FaultLabel] {
        faults.map {
            FaultLabel(startNs: Self.epochNs + UInt64($0.start) * Self.intervalNs + 300_000_000,
                       endNs: Self.epochNs + UInt64($0.end) * Self.intervalNs + 300_000_000,
                       pod: $0.pod, namespace: Self.namespace, kind: $0.kind.rawValue)
        }
    }

    /// The whole run. Faults start 0.3 s into their interval, as a real injection would.
    static func run(seed: UInt64) -> Training.Run {
        var cluster = SyntheticCluster(seed: seed)
        cluster.generate()
        return Training.Run(name: "seed-\(seed)", records: cluster.records, labels: cluster.labels)
    }

    // MARK: - generation

    struct FlowStats { var retransmits = 0.0, drops = 0.0, dropsAt: String?, connectFailures = 0.0, exchanges = 0 }
    private var flows: [Pair: FlowStats] = [:]
    private var turns: [Pair: [Double]] = [:]
    private var now: UInt64 = 0
    private var active: [Fault] = []

    struct Pair: Hashable { var client: String; var server: String }

    mutating func generate() {
        for k in 0..<intervals {
            let startNs = Self.epochNs + UInt64(k) * Self.intervalNs
            // A fault covers an interval from its start (0.3 s in) to its end.
            active = faults.filter { k >= $0.start && k < $0.end || (k == $0.end && rng.chance(0.3)) }
            flows = [:]
            turns = [:]
            let wave: Double = 1 + 0.2 * sin(2 * Double.pi * Double(k) / 90)
            let load: Double = requestRate * wave * rng.uniform(0.9, 1.1)
            for _ in 0..<rng.poisson(load) {
                now = startNs + UInt64(rng.uniform(0, 0.95) * Double(Self.intervalNs))
                _ = exchange(client: "loadgen", server: "front-end", uri: pickFrontURI())
            }
            for pod in ["front-end", "orders", "carts"] { lookups(from: pod) }
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

    /// One HTTP exchange with its downstream calls; returns (client-view duration ns, success).
    private mutating func exchange(client: String, server: String, uri: String) -> (Double, Bool) {
        let pair = Pair(client: client, server: server)
        flows[pair, default: FlowStats()].exchanges += 1
        if let f = fault(.reset, on: server), rng.chance(f.magnitude) {
            flows[pair]!.connectFailures += 1
            return (rng.lognormal(median: 0.2e6, sigma: 0.3), false)
        }
        let service = Self.services[server]!
        var serverView = rng.lognormal(median: service.baseMs * 1e6, sigma: 0.35)
        var status = rng.chance(0.002) ? 500 : 200
        for call in service.routes[uri] ?? [] {
            if let f = fault(.dns, on: server), rng.chance(f.magnitude) {
                dnsRecord(from: server, domain: domain(call.callee), code: rng.pick(["NXDOMAIN", "SERVFAIL", "TIMEOUT"]))
                status = 503
                break
            }
            let (d, ok) = exchange(client: server, server: call.callee, uri: call.uri)
            serverView += d
            if !ok { status = 502; break }
        }
        if server == "carts" && status == 200 {
            // carts reads carts-db over plain TCP: request/response turns.
            let (d, ok) = turn(client: "carts", server: "carts-db")
            serverView += d
            if !ok { status = 500 }
        }
        var clientView = serverView + rtt(client, server)
        clientView += networkPenalty(client, server, packets: 4, pair: pair)
        emitHTTP(client: client, server: server, uri: uri, status: status, clientView: clientView, serverView: serverView)
        return (clientView, status < 500)
    }

    private mutating func turn(client: String, server: String) -> (Double, Bool) {
        let pair = Pair(client: client, server: server)
        flows[pair, default: FlowStats()].exchanges += 1
        if let f = fault(.reset, on: server), rng.chance(f.magnitude) {
            flows[pair]!.connectFailures += 1
            return (0.1e6, false)
        }
        var d = rng.lognormal(median: 0.8e6, sigma: 0.3) + rtt(client, server)
        d += networkPenalty(client, server, packets: 2, pair: pair)
        turns[pair, default: []].append(d)
        return (d, true)
    }

    /// Delay on either end adds its d; loss costs retransmission timeouts per lost packet.
    private mutating func networkPenalty(_ a: String, _ b: String, packets: Int, pair: Pair) -> Double {
        var extra = 0.0
        for pod in [a, b] { if let f = fault(.delay, on: pod) { extra += f.magnitude } }
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
        var r = rng.lognormal(median: 80_000, sigma: 0.3)
        for pod in [a, b] { if let f = fault(.delay, on: pod) { r += f.magnitude } }
        return r
    }

    private func domain(_ pod: String) -> String { "\(pod).\(Self.namespace).svc.cluster.local" }

    private mutating func lookups(from pod: String) {
        let callees = Set((Self.services[pod]?.routes.values.flatMap { $0.map(\.callee) } ?? []) + (pod == "carts" ? ["carts-db"] : []))
        for callee in callees.sorted() {
            for _ in 0..<rng.poisson(1.5) {
                let failing = fault(.dns, on: pod).map { rng.chance($0.magnitude) } ?? false
                dnsRecord(from: pod, domain: domain(callee), code: failing ? rng.pick(["NXDOMAIN", "SERVFAIL", "TIMEOUT"]) : "NOERROR")
            }
            // Search-path expansions answer NXDOMAIN all the time.
            for _ in 0..<rng.poisson(0.8) { dnsRecord(from: pod, domain: domain(callee) + ".cluster.local", code: "NXDOMAIN") }
        }
    }

    private mutating func dnsRecord(from pod: String, domain: String, code: String) {
        let duration = code == "TIMEOUT" ? 5e9 : rng.lognormal(median: 0.4e6, sigma: 0.4)
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
            for role in ["client", "server"] {
                let local = role == "client" ? pair.client : pair.server
                var r = FlowRecord(kind: "tcp", tsNs: now)
                r.role = role
                r.srcPod = qualified(local)
                r.dstPod = qualified(role == "client" ? pair.server : pair.client)
                r.tcpRetransmit = role == "client" ? clientShare : retransmits - clientShare
                if s.dropsAt == local {
                    r.tcpDrop = s.drops
                    r.tcpDropReasons = ["NETFILTER_DROP"]
                }
                r.tcpRttNs = rtt(pair.client, pair.server)
                records.append(r)
            }
            for _ in 0..<Int(s.connectFailures) {
                var r = FlowRecord(kind: "tcp", tsNs: now)
                r.role = "client"
                r.srcPod = qualified(pair.client)
                r.dstPod = qualified(pair.server)
                r.tcpConnectFailed = true
                r.tcpError = "ECONNREFUSED"
                records.append(r)
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
