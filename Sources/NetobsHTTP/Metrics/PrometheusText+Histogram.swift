import NetobsProbes

extension PrometheusText {
    /// `_bucket` (cumulative, with `le`), `_sum` in seconds and `_count` of one histogram.
    mutating func histogram(_ name: String, _ labels: [(String, String)], _ h: DurationHistogram) {
        var cumulative: UInt64 = 0
        for (i, count) in h.buckets.enumerated() {
            cumulative += count
            let le = i < DurationHistogram.boundsSeconds.count ? Self.number(DurationHistogram.boundsSeconds[i]) : "+Inf"
            sample(name + "_bucket", labels + [("le", le)], String(cumulative))
        }
        sample(name + "_sum", labels, Self.number(Double(h.sumNs) / 1e9))
        sample(name + "_count", labels, String(h.count))
    }
}
