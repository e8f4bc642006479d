import Foundation

/// The fault kinds of the scenario files.
public enum FaultKind: String, Sendable, Codable, CaseIterable {
    case delay, loss, reset, dns
}

/// Tells the kind of a fault from the located pod's deviations: rules where one signal decides
/// (`unambiguous`), else the nearest centroid over
/// log-scaled deviations. The default centroids encode what each fault does to the series
/// (delay: latency and smoothed RTT alike; loss: a latency tail from retransmission timeouts,
/// retransmits and drops, but little RTT, since RTT samples of retransmitted segments are
/// discarded; reset: connection errors and 5xx; dns: lookup failures, timeouts and the
/// errors they cause); `netobs train` replaces them with the means of labelled faults and
/// scales each feature by its spread.
public struct FaultClassifier: Sendable, Codable, Equatable {
    public static let features = ["latency", "rtt", "retransmits", "drops", "conn_errors", "http_errors",
                                  "dns_failures", "dns_latency"]

    public var centroids: [String: [Double]]
    public var scale: [Double]

    public static let `default` = FaultClassifier(centroids: [
        FaultKind.delay.rawValue: [6, 6, 0, 0, 0, 0, 0, 0],
        FaultKind.loss.rawValue: [5.5, 0.5, 2, 1, 0, 0.5, 0, 0],
        FaultKind.reset.rawValue: [0.5, 0, 0, 0, 2.5, 1, 0, 0],
        FaultKind.dns.rawValue: [0.5, 0, 0, 0, 0, 2, 2.5, 4],
    ], scale: [Double](repeating: 1, count: features.count))

    public init(centroids: [String: [Double]], scale: [Double]) {
        self.centroids = centroids
        self.scale = scale
    }

    /// log(1 + z) of the pod's deviations, z capped so that one huge series does not dominate.
    public static func features(_ metrics: [Metric: Double]) -> [Double] {
        func f(_ ms: Metric...) -> Double { log1p(min(1000, ms.map { max(0, metrics[$0] ?? 0) }.max() ?? 0)) }
        return [f(.httpLatencyP99, .httpLatencyP50, .turnLatencyP99), f(.rtt), f(.retransmits), f(.drops),
                f(.connErrors), f(.httpErrors), f(.dnsFailures), f(.dnsLatencyP99)]
    }

    public func classify(_ features: [Double]) -> String {
        Self.unambiguous(features) ?? nearest(features)
    }

    /// Deviation a signal needs (as log(1 + z)) to decide the kind by itself.
    static let decisive = log1p(5.0)
    /// Below this (as log(1 + z)) a signal is absent (a lossy pod's retransmits move by z ≈ 1.5
    /// even when its latency tail dominates).
    static let absent = log1p(1.0)

    /// Rules for evidence that names the kind by itself, strongest mechanism first: lookups
    /// failing (dns), connections refused or reset (reset), segments retransmitted or dropped
    /// (loss), and slower answers with neither (delay). nil leaves it to the centroids.
    /// Drops come with both loss and resets (a rejected segment is dropped as its RST goes
    /// out), so retransmits tell them apart: a lost segment is sent again, a refused
    /// connection is not.
    static func unambiguous(_ f: [Double]) -> String? {
        guard f.count == features.count else { return nil }
        let latency = f[0], retransmits = f[2], drops = f[3], connErrors = f[4], dnsFailures = f[6]
        let network = max(retransmits, drops)
        if dnsFailures >= decisive, dnsFailures >= max(connErrors, network) { return FaultKind.dns.rawValue }
        if connErrors >= decisive, connErrors >= retransmits { return FaultKind.reset.rawValue }
        if network >= decisive { return FaultKind.loss.rawValue }
        if latency >= decisive, network < absent, connErrors < absent, dnsFailures < absent { return FaultKind.delay.rawValue }
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
            model.scale = pooled.map { max(0.5, ($0 / Double(count - byKind.count)).squareRoot()) }
        }
        return model
    }
}
