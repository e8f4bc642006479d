import NetobsTopology

/// One topology view made ready for the join: hash maps from addresses to what they are, and
/// the join fields of each pod, node and service already rendered as JSON bytes, so that
/// joining a record is a few lookups and byte copies. Immutable; rebuilt when the topology
/// changes.
final class JoinIndex: Sendable {
    /// A run of `bytes`: rendered fields. Plain integers, so reading them costs no reference counting.
    struct Piece: Sendable {
        var start: Int32
        var count: Int32
    }

    /// The fields one party adds, for when it is the source and for when it is the destination.
    struct Pair: Sendable {
        var src: Piece
        var dst: Piece
    }

    /// The same while building.
    private struct Fragments {
        var src: [UInt8]
        var dst: [UInt8]
    }

    struct EndpointKey: Hashable, Sendable {
        var ip: IPKey
        var port: UInt32
    }

    static let external = 0

    let generation: UInt64
    /// Monotonic ns after which a recently deleted pod has expired and the index is stale.
    let staleAfterNs: UInt64?
    /// Parties: index 0 is "external", then pods (live and recently deleted) and nodes.
    let parties: [Pair]
    let addresses: [IPKey: Int32]
    let podsByUID: [String: Int32]
    /// Cluster IP → the destination fields of that service (and its backend when it has one).
    let clusterIPs: [IPKey: Piece]
    /// Pod address and port serving a service → that service's name fields.
    let endpoints: [EndpointKey: Int32]
    let serviceNames: [Pair]
    /// Every rendered field, back to back.
    let bytes: [UInt8]

    init(_ view: TopologyStore.View) {
        generation = view.generation
        staleAfterNs = view.nextExpiryNs
        var parties = [Fragments(src: JoinIndex.render("src", pod: "external", ns: ""),
                                 dst: JoinIndex.render("dst", pod: "external", ns: ""))]
        var isPod = [false]
        var addresses: [IPKey: Int32] = [:]
        var podsByUID: [String: Int32] = [:]

        func add(_ pod: TopologyPod, live: Bool) {
            let index = Int32(parties.count)
            parties.append(Fragments(src: JoinIndex.render("src", pod), dst: JoinIndex.render("dst", pod)))
            isPod.append(true)
            if !pod.uid.isEmpty, live || podsByUID[pod.uid] == nil { podsByUID[pod.uid] = index }
            // A host-network pod's address is its node's: only its uid names it.
            guard !pod.hostNetwork else { return }
            for ip in pod.ips {
                guard let key = IPKey(ip) else { continue }
                if live || addresses[key] == nil { addresses[key] = index }
            }
        }
        // Live pods first, then nodes, then recently deleted pods: a live owner of an address wins.
        for pod in view.state.pods.values { add(pod, live: true) }
        for node in view.state.nodes.values {
            let index = Int32(parties.count)
            parties.append(Fragments(src: JoinIndex.render("src", pod: "node:" + node.name, ns: "", node: node.name),
                                     dst: JoinIndex.render("dst", pod: "node:" + node.name, ns: "", node: node.name)))
            isPod.append(false)
            for ip in node.ips { if let key = IPKey(ip), addresses[key] == nil { addresses[key] = index } }
        }
        for pod in view.recentlyDeleted { add(pod, live: false) }

        var serviceIndex: [ObjectKey: Int32] = [:]
        var serviceNames: [Fragments] = []
        let services = view.state.services.values.sorted { $0.key < $1.key }
        for service in services {
            serviceIndex[service.key] = Int32(serviceNames.count)
            serviceNames.append(Fragments(src: JoinIndex.fields([("src_service", service.name)]),
                                          dst: JoinIndex.fields([("dst_service", service.name)])))
        }
        var endpoints: [EndpointKey: Int32] = [:]
        var backends = [Set<Int32>](repeating: [], count: services.count)
        for slice in view.state.endpointSlices.values {
            guard let service = serviceIndex[ObjectKey(namespace: slice.namespace, name: slice.service)] else { continue }
            for endpoint in slice.endpoints where endpoint.ready {
                for ip in endpoint.ips {
                    guard let key = IPKey(ip) else { continue }
                    for port in slice.ports where port > 0 && port <= 65535 {
                        endpoints[EndpointKey(ip: key, port: UInt32(port))] = service
                    }
                    if let party = addresses[key], isPod[Int(party)] { backends[Int(service)].insert(party) }
                }
            }
        }
        var bytes: [UInt8] = []
        func piece(_ rendered: [UInt8]) -> Piece {
            defer { bytes += rendered }
            return Piece(start: Int32(bytes.count), count: Int32(rendered.count))
        }
        var clusterIPs: [IPKey: Piece] = [:]
        for (i, service) in services.enumerated() {
            // The destination is the service; it is also the backend pod when only one can be.
            var fields = serviceNames[i].dst
            if backends[i].count == 1, let only = backends[i].first {
                fields += parties[Int(only)].dst
            } else {
                fields += JoinIndex.render("dst", pod: "service:" + service.name, ns: service.namespace)
            }
            let rendered = piece(fields)
            for ip in service.clusterIPs { if let key = IPKey(ip) { clusterIPs[key] = rendered } }
        }
        self.parties = parties.map { Pair(src: piece($0.src), dst: piece($0.dst)) }
        self.serviceNames = serviceNames.map { Pair(src: piece($0.src), dst: piece($0.dst)) }
        self.bytes = bytes
        self.addresses = addresses
        self.podsByUID = podsByUID
        self.clusterIPs = clusterIPs
        self.endpoints = endpoints
    }

    private static func render(_ side: String, _ pod: TopologyPod) -> [UInt8] {
        render(side, pod: pod.name, ns: pod.namespace, workload: pod.workload, node: pod.node)
    }

    private static func render(_ side: String, pod: String, ns: String, workload: String = "", node: String = "") -> [UInt8] {
        var list = [(side + "_pod", pod), (side + "_ns", ns)]
        if !workload.isEmpty { list.append((side + "_workload", workload)) }
        if !node.isEmpty { list.append((side + "_node", node)) }
        return fields(list)
    }

    /// `,"key":"value"` for each pair, values escaped as JSON strings.
    static func fields(_ pairs: [(String, String)]) -> [UInt8] {
        var out: [UInt8] = []
        for (key, value) in pairs {
            out += Array(",\"\(key)\":".utf8)
            out.append(UInt8(ascii: "\""))
            for byte in value.utf8 {
                switch byte {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"): out += [UInt8(ascii: "\\"), byte]
                case 0..<0x20: out += Array(String(format6: byte).utf8)
                default: out.append(byte)
                }
            }
            out.append(UInt8(ascii: "\""))
        }
        return out
    }
}

private extension String {
    /// `\u00XX` for a control byte.
    init(format6 byte: UInt8) {
        let hex = String(byte, radix: 16)
        self = "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
    }
}
