import NetobsTopology
import Synchronization

/// Adds topology to agent records (JSON lines, see DESIGN.md): for each side with an address,
/// `src_pod`/`src_ns` (`dst_…` alike), and where known `…_workload`, `…_node`, `…_service`.
///
/// - A pod address names the pod; a deleted pod's address still does for the store's grace
///   period (unless a live pod has taken it).
/// - A node address names the node: `…_pod` is `node:<name>`, `…_ns` empty.
/// - A service cluster IP as destination gives `dst_service`, and the backend pod as
///   `dst_pod` when the service has exactly one; otherwise `dst_pod` is `service:<name>`.
/// - An address and port serving a service (the server's side of a flow) adds `…_service`.
/// - The record's `pod_uid`, when present and known, names the source pod: host-network
///   pods share their node's address and are only told apart that way.
/// - Anything else is `external`. No record is ever dropped: one that is not a JSON object
///   or is already joined passes unchanged (and is counted).
///
/// The fields are appended before the closing brace; the record is not parsed or rewritten.
public final class TopologyJoiner: Sendable {
    public struct Counters: Sendable, Equatable {
        public var joined = 0
        /// Records with neither `src_ip` nor `dst_ip` (loss reports, for example).
        public var withoutAddresses = 0
        public var alreadyJoined = 0
        /// Not a JSON object: passed on unchanged.
        public var malformed = 0

        public init(joined: Int = 0, withoutAddresses: Int = 0, alreadyJoined: Int = 0, malformed: Int = 0) {
            self.joined = joined
            self.withoutAddresses = withoutAddresses
            self.alreadyJoined = alreadyJoined
            self.malformed = malformed
        }
    }

    private let store: TopologyStore
    private let clock: @Sendable () -> UInt64
    private let index = Mutex<JoinIndex?>(nil)
    private let counters = Mutex(Counters())

    public init(store: TopologyStore, clock: @escaping @Sendable () -> UInt64 = MonotonicClock.nowNs) {
        self.store = store
        self.clock = clock
    }

    public var counts: Counters { counters.withLock { $0 } }

    /// The records with their join fields, in the same order (one output per input).
    public func join(_ records: [[UInt8]]) -> [[UInt8]] {
        let index = currentIndex()
        var batch = Counters()
        let out = records.map { join($0, index, &batch) }
        counters.withLock {
            $0.joined += batch.joined
            $0.withoutAddresses += batch.withoutAddresses
            $0.alreadyJoined += batch.alreadyJoined
            $0.malformed += batch.malformed
        }
        return out
    }

    public func join(_ record: [UInt8]) -> [UInt8] { join([record])[0] }

    /// The index of the store's current topology, rebuilt when it changed or a deleted pod's
    /// grace period ran out.
    private func currentIndex() -> JoinIndex {
        let generation = store.generation
        return index.withLock { cached in
            if let cached, cached.generation == generation, cached.staleAfterNs.map({ clock() < $0 }) ?? true {
                return cached
            }
            let fresh = JoinIndex(store.view())
            cached = fresh
            return fresh
        }
    }

    private func join(_ record: [UInt8], _ index: JoinIndex, _ counts: inout Counters) -> [UInt8] {
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
            // Every piece is found first, then copied once into an array of the exact size.
            var src: [UInt8] = [], srcService: [UInt8] = [], dst: [UInt8] = [], dstService: [UInt8] = []
            if fields.srcIP != nil {
                let key = address(fields.srcIP)
                var party = key.flatMap { index.addresses[$0] }.map(Int.init) ?? JoinIndex.external
                if let uid = fields.podUID,
                   let pod = index.podsByUID[String(decoding: UnsafeRawBufferPointer(rebasing: bytes[uid]), as: UTF8.self)] {
                    party = Int(pod)
                }
                src = index.parties[party].src
                if let key, let port = fields.srcPort, let service = index.endpoints[JoinIndex.EndpointKey(ip: key, port: port)] {
                    srcService = index.serviceNames[Int(service)].src
                }
            }
            if fields.dstIP != nil {
                let key = address(fields.dstIP)
                if let key, let service = index.clusterIPs[key] {
                    dst = service
                } else {
                    dst = index.parties[key.flatMap { index.addresses[$0] }.map(Int.init) ?? JoinIndex.external].dst
                    if let key, let port = fields.dstPort, let service = index.endpoints[JoinIndex.EndpointKey(ip: key, port: port)] {
                        dstService = index.serviceNames[Int(service)].dst
                    }
                }
            }
            let size = bytes.count + src.count + srcService.count + dst.count + dstService.count
            return [UInt8](unsafeUninitializedCapacity: size) { out, count in
                var at = out.baseAddress!
                func copy(_ piece: UnsafeRawBufferPointer) {
                    guard let from = piece.baseAddress else { return }
                    UnsafeMutableRawPointer(at).copyMemory(from: from, byteCount: piece.count)
                    at += piece.count
                }
                copy(UnsafeRawBufferPointer(rebasing: bytes[..<close]))
                src.withUnsafeBytes(copy)
                srcService.withUnsafeBytes(copy)
                dst.withUnsafeBytes(copy)
                dstService.withUnsafeBytes(copy)
                copy(UnsafeRawBufferPointer(rebasing: bytes[close...]))
                count = size
            }
        }
    }
}
