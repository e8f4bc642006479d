import NetobsRecords

extension StreamHub.State {
    /// Puts each record in the `selected` of every filtering subscriber whose filter it passes,
    /// in order; returns those subscribers. A subscriber asking for a namespace is checked only
    /// against records of that namespace (and once per record).
    func select(_ records: [[UInt8]], _ views: [RecordView?]) -> [StreamHub.Subscriber] {
        var selecting: [StreamHub.Subscriber] = []
        func offer(_ sub: StreamHub.Subscriber, _ record: [UInt8], _ view: RecordView) {
            guard sub.filter.matches(view) else { return }
            if sub.selected.isEmpty { selecting.append(sub) }
            sub.selected.append(record)
        }
        for (i, view) in views.enumerated() {
            guard let v = view else { continue }
            for sub in anyNamespace { offer(sub, records[i], v) }
            guard !byNamespace.isEmpty else { continue }
            func offerNamespace(_ ns: String) {
                guard !ns.isEmpty, let subs = byNamespace[ns] else { return }
                for sub in subs { offer(sub, records[i], v) }
            }
            offerNamespace(v.srcNamespace)
            if v.dstNamespace != v.srcNamespace { offerNamespace(v.dstNamespace) }
            if v.namespace != v.srcNamespace && v.namespace != v.dstNamespace { offerNamespace(v.namespace) }
        }
        return selecting
    }
}
