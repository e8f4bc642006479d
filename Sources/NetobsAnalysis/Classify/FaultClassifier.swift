import Foundation

/// The fault kinds of the scenario files.
public enum FaultKind: String, Sendable, Codable, CaseIterable {
    case delay, loss, reset, dns, kill, cpu, partition, bandwidth
}

/// What tells kinds apart beyond the pod's deviations (see `Localizer.evidence`).
public struct KindEvidence: Sendable, Equatable {
    /// Share of the answers the pod served before the change that it no longer serves (0...1);
    /// nil when it served too few to tell.
    public var servedDrop: Double?
    /// Processes of the pod seen for the first time from the change point on (a restart).
    public var restarts = 0.0
    /// Spread of the pod's own answer time after the change, relative to its level (MAD /
    /// median of the per-interval values): a CPU-starved pod answers erratically, a pod that
    /// waits answers late but steadily. nil when its answer time did not rise.
    public var jitter: Double?
    /// Peers whose exchanges with the pod stopped after the change, and peers that kept going
    /// (the `dead_edges` feature is the share of the former, 0 when those that kept going lost
    /// segments too: a lossy pod, not a cut-off one).
    public var deadEdges = 0
    public var liveEdges = 0
    /// Deviations of the connections refused and unanswered (timed out, or SYNs sent again) on its
    /// dead edges (a caller cut off from its callee sees them on the edge, not as its own).
    public var deadEdgeRefused = 0.0
    public var deadEdgeTimeouts = 0.0
    /// Deviation of the retransmits on the edges that kept going (a lossy pod loses on all).
    public var liveEdgeRetransmits = 0.0

    public init(servedDrop: Double? = nil, restarts: Double = 0, jitter: Double? = nil, deadEdges: Int = 0, liveEdges: Int = 0) {
        self.servedDrop = servedDrop
        self.restarts = restarts
        self.jitter = jitter
        self.deadEdges = deadEdges
        self.liveEdges = liveEdges
    }
}

/// Tells the kind of a fault from the located pod's deviations and evidence: rules where one
/// signal decides (`unambiguous`), else the nearest centroid over log-scaled deviations and the
/// evidence's shares. What each fault does to the series:
/// - delay (the application waits): its own answer time and its clients' view rise alike,
///   steadily; RTT does not move (the kernel acknowledges as before);
/// - cpu (its processes starved): the same, but erratic (an answer waits for the next CFS
///   period, or does not);
/// - loss: retransmits, drops, a latency tail from retransmission timeouts on every connection of
///   the pod; RTT barely moves (samples of retransmitted segments are discarded);
/// - bandwidth (its sending capped): RTT rises by the queue's wait, on every connection of the
///   pod; its clients' view of its answers slows, its own view does not;
/// - partition (cut off from one peer): connections with that peer are never answered
///   (timeouts, SYN retransmits) and its exchanges with it stop, the others go on;
/// - reset: connections refused or reset (RSTs) and 5xx upstream;
/// - kill: every connection refused while it is down, no answer served, and a new process
///   when it comes back;
/// - dns: lookups of its name fail, and the calls that needed them.
/// `netobs train` replaces the centroids with the means of labelled faults and scales each
/// feature by its spread.
public struct FaultClassifier: Sendable, Codable, Equatable {
    public static let features = ["latency", "rtt", "retransmits", "drops", "conn_errors", "http_errors",
                                  "dns_failures", "dns_latency", "conn_refused", "conn_timeouts", "server_latency",
                                  "client_latency", "served_drop", "restarted", "jitter", "dead_edges"]

    public var centroids: [String: [Double]]
    public var scale: [Double]

    /// Fractions (the last four features) weigh like three log units of deviation.
    static let defaultScale = [Double](repeating: 1, count: 12) + [0.3, 0.3, 0.3, 0.3]

    public static let `default` = FaultClassifier(centroids: [
        //                                lat  rtt retx drop conn err dnsF dnsL  ref  tmo  srv  cli  drop rst  jit  dead
        FaultKind.delay.rawValue:        [6,   0,   0,   0,   0,   0,   0,   0,   0,   0,   6,   6,   0,   0,   0.1, 0],
        FaultKind.cpu.rawValue:          [4,   0,   0,   0,   0,   0,   0,   0,   0,   0,   4,   4,   0,   0,   0.7, 0],
        FaultKind.loss.rawValue:         [5.5, 0.5, 2,   1,   0,   0.5, 0,   0,   0,   0.5, 0,   4,   0.1, 0,   0,   0],
        FaultKind.bandwidth.rawValue:    [4,   5,   1,   0.5, 0,   0,   0,   0,   0,   0,   0,   4,   0.1, 0,   0,   0],
        FaultKind.partition.rawValue:    [4,   0,   1.5, 0.5, 2,   1,   0,   0,   0,   2,   0,   2,   0.5, 0,   0,   0.7],
        FaultKind.reset.rawValue:        [0.5, 0,   0,   0,   2.5, 1,   0,   0,   2.5, 0,   0,   0,   0.5, 0,   0,   0.3],
        FaultKind.kill.rawValue:         [0.5, 0,   0.5, 0,   3,   1,   0,   0,   3,   0,   0,   0,   1,   1,   0,   1],
        FaultKind.dns.rawValue:          [0.5, 0,   0,   0,   0,   2,   2.5, 4,   0,   0,   0,   0,   0,   0,   0,   0],
    ], scale: defaultScale)

    public init(centroids: [String: [Double]], scale: [Double]) {
        self.centroids = centroids
        self.scale = scale
    }

    /// log(1 + z) of the pod's deviations, z capped so that one huge series does not dominate,
    /// then the evidence's shares (0 when unknown).
    public static func features(_ metrics: [Metric: Double], evidence: KindEvidence = KindEvidence()) -> [Double] {
        func f(_ ms: Metric...) -> Double { log1p(min(1000, ms.map { max(0, metrics[$0] ?? 0) }.max() ?? 0)) }
        let edges = evidence.deadEdges + evidence.liveEdges
        return [f(.httpLatencyP99, .httpLatencyP50, .turnLatencyP99), f(.rtt), f(.retransmits), f(.drops),
                f(.connErrors), f(.httpErrors), f(.dnsFailures), f(.dnsLatencyP99),
                max(f(.connRefused), log1p(min(1000, evidence.deadEdgeRefused))),
                max(f(.connTimeouts), log1p(min(1000, evidence.deadEdgeTimeouts))), f(.httpServerLatencyP50), f(.httpClientLatencyP50),
                min(1, max(0, evidence.servedDrop ?? 0)), min(1, evidence.restarts), min(1, evidence.jitter ?? 0),
                edges > 0 && log1p(evidence.liveEdgeRetransmits) < absent ? Double(evidence.deadEdges) / Double(edges) : 0]
    }

    public func classify(_ features: [Double]) -> String {
        Self.unambiguous(features) ?? nearest(features)
    }

    /// Deviation a signal needs (as log(1 + z)) to decide the kind by itself.
    static let decisive = log1p(5.0)
    /// Below this (as log(1 + z)) a signal is absent (a lossy pod's retransmits move by z ≈ 1.5
    /// even when its latency tail dominates).
    static let absent = log1p(1.0)
    /// A starved pod's answer time varies by more than this share of its level (MAD / median).
    public static let erratic = 0.2

    /// Rules for evidence that names the kind by itself, strongest mechanism first: lookups
    /// failing (dns); a pod that was down and came back (kill); every connection of the pod
    /// waiting in a queue (bandwidth: RTT); exchanges with one peer stopped with connections
    /// unanswered (partition); connections refused or reset (reset); segments retransmitted or
    /// dropped (loss); slower answers with none of these, erratic (cpu) or steady (delay).
    /// nil leaves it to the centroids. Drops come with both loss and resets (a rejected segment
    /// is dropped as its RST goes out), so retransmits tell them apart: a lost segment is sent
    /// again, a refused connection is not.
    static func unambiguous(_ f: [Double]) -> String? {
        guard f.count >= 8 else { return nil }
        let latency = f[0], rtt = f[1], retransmits = f[2], drops = f[3], connErrors = f[4], dnsFailures = f[6]
        let network = max(retransmits, drops)
        let full = f.count >= features.count
        let refused = full ? f[8] : connErrors, timeouts = full ? f[9] : 0
        let serverLatency = full ? f[10] : latency
        let servedDrop = full ? f[12] : 0, restarted = full ? f[13] : 0, jitter = full ? f[14] : 0, dead = full ? f[15] : 0
        if dnsFailures >= decisive, dnsFailures >= max(connErrors, network) { return FaultKind.dns.rawValue }
        if restarted > 0, connErrors >= decisive || servedDrop >= 0.8 { return FaultKind.kill.rawValue }
        if rtt >= decisive, rtt >= connErrors { return FaultKind.bandwidth.rawValue }
        if dead > 0, timeouts > refused, timeouts >= absent { return FaultKind.partition.rawValue }
        if connErrors >= decisive, connErrors >= retransmits, refused >= timeouts { return FaultKind.reset.rawValue }
        if network >= decisive { return FaultKind.loss.rawValue }
        if latency >= decisive, network < absent, connErrors < absent, dnsFailures < absent, serverLatency >= absent || !full {
            return jitter >= erratic ? FaultKind.cpu.rawValue : FaultKind.delay.rawValue
        }
        return nil
    }

    func nearest(_ features: [Double]) -> String {
        var best = (kind: FaultKind.delay.rawValue, distance: Double.infinity)
        for (kind, c) in centroids.sorted(by: { $0.key < $1.key }) {
            var d = 0.0
            for i in features.indices where i < c.count {
                let s = i < scale.count && scale[i] > 1e-9 ? scale[i] : 1
                d += (features[i] - c[i]) * (features[i] - c[i]) / (s * s)
            }
            if d < best.distance { best = (kind, d) }
        }
        return best.kind
    }

    /// Centroids = per-kind means; scale = pooled within-kind standard deviation (floored).
    /// Kinds with no example keep their default centroid.
    public static func fit(_ examples: [(features: [Double], kind: String)]) -> FaultClassifier {
        var model = FaultClassifier.default
        let n = features.count
        var byKind: [String: [[Double]]] = [:]
        for e in examples where e.features.count == n { byKind[e.kind, default: []].append(e.features) }
        var pooled = [Double](repeating: 0, count: n)
        var count = 0
        for (kind, rows) in byKind {
            let mean = (0..<n).map { i in rows.reduce(0) { $0 + $1[i] } / Double(rows.count) }
            model.centroids[kind] = mean
            for row in rows {
                for i in 0..<n { pooled[i] += (row[i] - mean[i]) * (row[i] - mean[i]) }
                count += 1
            }
        }
        if count > byKind.count {
            model.scale = pooled.enumerated().map { i, v in
                max(i < 12 ? 0.5 : 0.15, (v / Double(count - byKind.count)).squareRoot())
            }
        }
        return model
    }
}
