/// Pure sums over observations: the map's edges, the pods table, the per-pod series and the
/// per-URI latency. HTTP exchanges are usually seen twice on one node (by the client's socket
/// and by the server's); to count each once, a group of exchanges uses the client side's
/// records when it has any (latency as callers see it, network included), else the server's.
enum DashboardAggregation {
    /// Buckets covering [firstNs, lastNs]: the smallest "nice" width of at least `minBucketNs`
    /// that needs no more than `maxBuckets`, aligned on multiples of the width.
    static func grid(firstNs: UInt64, lastNs: UInt64, minBucketNs: UInt64, maxBuckets: Int) -> SeriesGrid {
        let nice: [UInt64] = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 21600, 43200, 86400]
        let span = lastNs >= firstNs ? lastNs - firstNs : 0
        let floor = max(1, minBucketNs)
        let needed = span / UInt64(max(1, maxBuckets)) + 1
        let bucket = nice.map { $0 * 1_000_000_000 }.first { $0 >= floor && $0 >= needed }
            ?? max(floor, needed)
        let start = firstNs / bucket * bucket
        return SeriesGrid(startNs: start, bucketNs: bucket, count: Int((lastNs - start) / bucket) + 1)
    }

    /// The exchanges to count for one group (see the type's comment).
    static func preferredHTTP(_ group: [Observation]) -> [Observation] {
        let withHTTP = group.filter { $0.http != nil }
        let clientSide = withHTTP.filter { $0.side == .client }
        return clientSide.isEmpty ? withHTTP : clientSide
    }

    static func edges(_ observations: [Observation], thresholds: HealthThresholds) -> [ServiceEdge] {
        struct Pair: Hashable { var client: PodID; var server: PodID }
        var groups: [Pair: [Observation]] = [:]
        for o in observations {
            guard let c = o.client, let s = o.server, c != s else { continue }
            groups[Pair(client: c, server: s), default: []].append(o)
        }
        return groups.map { pair, group in
            let http = preferredHTTP(group).compactMap(\.http)
            let requests = http.reduce(UInt64(0)) { $0 + $1.count }
            let errors = http.filter(\.isError).reduce(UInt64(0)) { $0 + $1.count }
            let rate = requests > 0 ? Double(errors) / Double(requests) : 0
            let p99 = Quantile.of(http.flatMap(\.latency), 0.99)
            let retransmits = group.reduce(UInt64(0)) { $0 + $1.retransmits }
            let drops = group.reduce(UInt64(0)) { $0 + $1.drops }
            let connErrors = group.reduce(UInt64(0)) { $0 + $1.connectionErrors }
            return ServiceEdge(source: pair.client, destination: pair.server, requests: Int(requests), errorRate: rate,
                               p99LatencyNs: p99, retransmits: retransmits, drops: drops, connectionErrors: connErrors,
                               health: thresholds.health(errorRate: rate, p99Ns: p99, retransmits: retransmits,
                                                         drops: drops, connectionErrors: connErrors))
        }.sorted { ($0.source, $0.destination) < ($1.source, $1.destination) }
    }

    static func summaries(_ observations: [Observation], anomalies: [Anomaly]) -> [PodSummary] {
        var pods = Set(anomalies.map(\.pod))
        for o in observations {
            if let c = o.client { pods.insert(c) }
            if let s = o.server { pods.insert(s) }
        }
        var served: [PodID: [Observation]] = [:]
        var retransmits: [PodID: UInt64] = [:]
        var drops: [PodID: UInt64] = [:]
        for o in observations {
            if o.http != nil, let s = o.server { served[s, default: []].append(o) }
            for pod in Set([o.client, o.server].compactMap { $0 }) {
                retransmits[pod, default: 0] += o.retransmits
                drops[pod, default: 0] += o.drops
            }
        }
        return pods.sorted().map { pod in
            let http = preferredHTTP(served[pod] ?? []).compactMap(\.http)
            return PodSummary(pod: pod, requests: Int(http.reduce(0) { $0 + $1.count }),
                              httpErrors: Int(http.filter(\.isError).reduce(0) { $0 + $1.count }),
                              retransmits: retransmits[pod] ?? 0, drops: drops[pod] ?? 0,
                              anomalies: anomalies.filter { $0.pod == pod }.count)
        }
    }

    /// Fig. 6: L4 metrics of the connections the pod is on either end of; HTTP latency and
    /// errors of the requests it serves; DNS errors of the queries it makes. Counts are nil in
    /// buckets where nothing about the pod was seen (a gap, not a zero).
    static func podSeries(_ pod: PodID, _ observations: [Observation], grid: SeriesGrid) -> [MetricSeries] {
        let mine = observations.filter { $0.involves(pod) }
        let served = preferredHTTP(mine.filter { $0.server == pod })
        var seen = [Bool](repeating: false, count: grid.count)
        var retransmits = [Double](repeating: 0, count: grid.count)
        var drops = retransmits, connErrors = retransmits, dnsErrors = retransmits, httpErrors = retransmits
        var rttSum = retransmits, rttCount = retransmits
        var latency = [[LatencySample]](repeating: [], count: grid.count)
        for o in mine {
            guard let i = grid.index(of: o.tsNs) else { continue }
            seen[i] = true
            retransmits[i] += Double(o.retransmits)
            drops[i] += Double(o.drops)
            connErrors[i] += Double(o.connectionErrors)
            if o.client == pod { dnsErrors[i] += Double(o.dnsFailures) }
            if let rtt = o.rttNs {
                rttSum[i] += Double(rtt)
                rttCount[i] += 1
            }
        }
        for o in served {
            guard let i = grid.index(of: o.tsNs), let http = o.http else { continue }
            latency[i] += http.latency
            if http.isError { httpErrors[i] += Double(http.count) }
        }
        func counts(_ values: [Double]) -> [Double?] { values.indices.map { seen[$0] ? values[$0] : nil } }
        func ms(_ q: Double) -> [Double?] { latency.map { Quantile.of($0, q).map { Double($0) / 1e6 } } }
        return PodMetric.allCases.map { metric in
            let values: [Double?] = switch metric {
            case .retransmits: counts(retransmits)
            case .rtt: rttSum.indices.map { rttCount[$0] > 0 ? rttSum[$0] / rttCount[$0] / 1e6 : nil }
            case .drops: counts(drops)
            case .httpLatencyP50: ms(0.5)
            case .httpLatencyP99: ms(0.99)
            case .httpErrors: counts(httpErrors)
            case .connectionErrors: counts(connErrors)
            case .dnsErrors: counts(dnsErrors)
            }
            return MetricSeries(metric: metric, values: values)
        }
    }

    /// Fig. 7: per URI the pod serves, its totals and its p99 per bucket; busiest first.
    static func uriLatency(_ pod: PodID, _ observations: [Observation], grid: SeriesGrid) -> [URILatencySeries] {
        let served = preferredHTTP(observations.filter { $0.server == pod })
        var byURI: [String: [Observation]] = [:]
        for o in served { byURI[o.http!.uri, default: []].append(o) }
        return byURI.map { uri, group in
            let http = group.compactMap(\.http)
            let samples = http.flatMap(\.latency)
            var perBucket = [[LatencySample]](repeating: [], count: grid.count)
            for o in group {
                if let i = grid.index(of: o.tsNs) { perBucket[i] += o.http!.latency }
            }
            return URILatencySeries(
                uri: uri, requests: Int(http.reduce(0) { $0 + $1.count }),
                errors: Int(http.filter(\.isError).reduce(0) { $0 + $1.count }),
                p50Ns: Quantile.of(samples, 0.5) ?? 0, p99Ns: Quantile.of(samples, 0.99) ?? 0,
                maxNs: samples.map(\.ns).max() ?? 0,
                p99Ms: perBucket.map { Quantile.of($0, 0.99).map { Double($0) / 1e6 } })
        }.sorted { ($1.requests, $0.uri) < ($0.requests, $1.uri) }
    }
}
