/// One batch's view of a `JoinIndex`: its tables held in locals and its rendered fields as
/// raw bytes, so that joining a record does lookups and copies, and no reference counting.
struct JoinTables {
    let addresses: [IPKey: Int32]
    let podsByUID: [String: Int32]
    let clusterIPs: [IPKey: JoinIndex.Piece]
    let endpoints: [JoinIndex.EndpointKey: Int32]
    let parties: [JoinIndex.Pair]
    let serviceNames: [JoinIndex.Pair]
    let fragments: UnsafeRawBufferPointer

    init(_ index: JoinIndex, _ fragments: UnsafeRawBufferPointer) {
        addresses = index.addresses
        podsByUID = index.podsByUID
        clusterIPs = index.clusterIPs
        endpoints = index.endpoints
        parties = index.parties
        serviceNames = index.serviceNames
        self.fragments = fragments
    }

    func join(_ record: [UInt8], _ counts: inout TopologyJoiner.Counters) -> [UInt8] {
        record.withUnsafeBytes { bytes -> [UInt8] in
            let fields = RecordFields(bytes)
            guard let close = fields.closingBrace else {
                counts.malformed += 1
                return record
            }
            if fields.hasSrcPod {
                counts.alreadyJoined += 1
                return record
            }
            guard fields.srcIP != nil || fields.dstIP != nil else {
                counts.withoutAddresses += 1
                return record
            }
            counts.joined += 1
            func address(_ range: Range<Int>?) -> IPKey? {
                range.flatMap { IPKey(UnsafeRawBufferPointer(rebasing: bytes[$0])) }
            }
            let none = JoinIndex.Piece(start: 0, count: 0)
            var src = none, srcService = none, dst = none, dstService = none
            if fields.srcIP != nil {
                let key = address(fields.srcIP)
                var party = key.flatMap { addresses[$0] }.map(Int.init) ?? JoinIndex.external
                if let uid = fields.podUID,
                   let pod = podsByUID[String(decoding: UnsafeRawBufferPointer(rebasing: bytes[uid]), as: UTF8.self)] {
                    party = Int(pod)
                }
                src = parties[party].src
                if let key, let port = fields.srcPort, let service = endpoints[JoinIndex.EndpointKey(ip: key, port: port)] {
                    srcService = serviceNames[Int(service)].src
                }
            }
            if fields.dstIP != nil {
                let key = address(fields.dstIP)
                if let key, let service = clusterIPs[key] {
                    dst = service
                } else {
                    dst = parties[key.flatMap { addresses[$0] }.map(Int.init) ?? JoinIndex.external].dst
                    if let key, let port = fields.dstPort, let service = endpoints[JoinIndex.EndpointKey(ip: key, port: port)] {
                        dstService = serviceNames[Int(service)].dst
                    }
                }
            }
            // Copied once into an array of the exact size.
            let size = bytes.count + Int(src.count + srcService.count + dst.count + dstService.count)
            return [UInt8](unsafeUninitializedCapacity: size) { out, count in
                var at = UnsafeMutableRawPointer(out.baseAddress!)
                func copy(_ piece: UnsafeRawBufferPointer) {
                    guard let from = piece.baseAddress, piece.count > 0 else { return }
                    at.copyMemory(from: from, byteCount: piece.count)
                    at += piece.count
                }
                func copy(_ piece: JoinIndex.Piece) {
                    copy(UnsafeRawBufferPointer(rebasing: fragments[Int(piece.start)..<Int(piece.start + piece.count)]))
                }
                copy(UnsafeRawBufferPointer(rebasing: bytes[..<close]))
                copy(src)
                copy(srcService)
                copy(dst)
                copy(dstService)
                copy(UnsafeRawBufferPointer(rebasing: bytes[close...]))
                count = size
            }
        }
    }
}
