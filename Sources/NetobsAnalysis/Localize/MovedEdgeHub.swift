extension Localizer {
    /// A fault on a pod's network (loss, a queue) moves every connection of that pod; a peer
    /// with one connection, to it, may still show the larger deviation (a quiet pod's latency
    /// tail explodes with one retransmission timeout). When every moved connection of the top
    /// pod is with one other pod of the ranking's head that is on more moved connections, that
    /// pod is their common end and goes first. A top pod whose only connection is with a pod on
    /// no other moved connection keeps its place (the fault is on its side of that connection).
    func preferHubOfMovedEdges(_ ranking: inout [PodScore], moved: Set<Pair>) {
        guard let top = ranking.first else { return }
        func movedCount(_ pod: String) -> Int { moved.filter { $0.a == pod || $0.b == pod }.count }
        let mine = moved.filter { $0.a == top.pod || $0.b == top.pod }
        let peers = Set(mine.map { $0.a == top.pod ? $0.b : $0.a })
        guard peers.count == 1, let hub = peers.first,
              let index = ranking.prefix(Self.head).firstIndex(where: { $0.pod == hub }),
              movedCount(hub) >= 2, movedCount(hub) > mine.count,
              ranking[index].graphFactor > top.graphFactor, ranking[index].deviation >= config.edgeThreshold
        else { return }
        let pod = ranking.remove(at: index)
        ranking.insert(pod, at: 0)
    }
}
