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
            var close = bytes.count - 1
            while close >= 0, bytes[close] == UInt8(ascii: " ") || bytes[close] == UInt8(ascii: "\n")
                    || bytes[close] == UInt8(ascii: "\r") || bytes[close] == UInt8(ascii: "\t") { close -= 1 }
            guard close > 0, bytes[0] == UInt8(ascii: "{"), bytes[close] == UInt8(ascii: "}") else {
                counts.malformed += 1
                return record
            }
            let fields = RecordFields(bytes: bytes)
            if fields.contains("src_pod") {
                counts.alreadyJoined += 1
                return record
            }
            let srcText = fields.string("src_ip")
            let dstText = fields.string("dst_ip")
            guard srcText != nil || dstText != nil else {
                counts.withoutAddresses += 1
                return record
            }
            counts.joined += 1
            var out: [UInt8] = []
            out.reserveCapacity(record.count + 192)
            out += UnsafeRawBufferPointer(rebasing: bytes[..<close])
            if let srcText {
                let key = srcText.isEmpty ? nil : IPKey(srcText)
                var party = key.flatMap { index.addresses[$0] }.map(Int.init) ?? JoinIndex.external
                if let uid = fields.string("pod_uid"), let pod = index.podsByUID[String(decoding: uid, as: UTF8.self)] {
                    party = Int(pod)
                }
                out += index.parties[party].src
                if let key, let port = fields.uint("src_port"),
                   let service = index.endpoints[JoinIndex.EndpointKey(ip: key, port: port)] {
                    out += index.serviceNames[Int(service)].src
                }
            }
            if let dstText {
                let key = dstText.isEmpty ? nil : IPKey(dstText)
                if let key, let service = index.clusterIPs[key] {
                    out += service
                } else {
                    out += index.parties[key.flatMap { index.addresses[$0] }.map(Int.init) ?? JoinIndex.external].dst
                    if let key, let port = fields.uint("dst_port"),
                       let service = index.endpoints[JoinIndex.EndpointKey(ip: key, port: port)] {
                        out += index.serviceNames[Int(service)].dst
                    }
                }
            }
            out += UnsafeRawBufferPointer(rebasing: bytes[close...])
            return out
        }
    }
}
