import CNetobsLayout

/// Swift views of the kernel's flow records (bpf/netobs_layout.h), decoded from map values
/// and ring buffer samples. Plain values, so the interval logic is testable without a kernel.

public struct Endpoints: Sendable, Equatable {
    public var localAddr: [UInt8]
    public var remoteAddr: [UInt8]
    public var localPort: UInt16
    public var remotePort: UInt16
    public var ipVersion: UInt8
    public var role: UInt8
    public var netns: UInt32

    public init(localAddr: [UInt8], remoteAddr: [UInt8], localPort: UInt16, remotePort: UInt16,
                ipVersion: UInt8, role: UInt8 = 0, netns: UInt32 = 0) {
        self.localAddr = localAddr
        self.remoteAddr = remoteAddr
        self.localPort = localPort
        self.remotePort = remotePort
        self.ipVersion = ipVersion
        self.role = role
        self.netns = netns
    }

    init(_ e: netobs_endpoints) {
        self.init(localAddr: bytes(of: e.local_addr), remoteAddr: bytes(of: e.remote_addr),
                  localPort: e.local_port, remotePort: e.remote_port,
                  ipVersion: e.ip_version, role: e.role, netns: e.netns)
    }
}

public struct Owner: Sendable, Equatable {
    public var pid: UInt32
    public var comm: String
    public var cgroupID: UInt64

    public init(pid: UInt32, comm: String, cgroupID: UInt64) {
        self.pid = pid
        self.comm = comm
        self.cgroupID = cgroupID
    }

    init(_ o: netobs_owner) {
        let comm = withUnsafeBytes(of: o.comm) { raw in
            String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
        }
        self.init(pid: o.pid, comm: comm, cgroupID: o.cgroup_id)
    }
}

public struct StateTransition: Sendable, Equatable {
    public var tsNs: UInt64
    public var oldStateNs: UInt64
    public var oldState: UInt8
    public var newState: UInt8

    public init(tsNs: UInt64, oldStateNs: UInt64, oldState: UInt8, newState: UInt8) {
        self.tsNs = tsNs
        self.oldStateNs = oldStateNs
        self.oldState = oldState
        self.newState = newState
    }
}

public struct TCPFlowSample: Sendable {
    public var sock: UInt64
    public var endpoints: Endpoints
    public var owner: Owner
    public var startNs: UInt64 = 0
    public var closedNs: UInt64 = 0
    public var txBytes: UInt64 = 0
    public var rxBytes: UInt64 = 0
    public var retransmits: UInt32 = 0
    public var tlp: UInt32 = 0
    public var drops: UInt32 = 0
    public var dropReasons: [UInt32] = []
    public var srttUs: UInt32 = 0
    public var rttSlotEpoch: (UInt32, UInt32) = (0, 0)
    public var rttMinUs: (UInt32, UInt32) = (0, 0)
    public var rttMaxUs: (UInt32, UInt32) = (0, 0)
    public var socketError: UInt32 = 0
    public var state: UInt8 = 0
    /// Closed and already handed over (ring buffer or iterator): not to be reported again.
    public var exported = false
    public var transitionCount: UInt32 = 0
    /// The kernel's ring of the last transitions, slot = sequence number % capacity.
    public var transitionRing: [StateTransition] = []

    public static let ringCapacity = Int(NETOBS_TRANSITIONS)

    public init(sock: UInt64, endpoints: Endpoints, owner: Owner) {
        self.sock = sock
        self.endpoints = endpoints
        self.owner = owner
    }

    /// Decodes a `struct netobs_tcp_flow` (map value or ring buffer sample).
    public init?(raw: UnsafeRawBufferPointer) {
        guard raw.count >= MemoryLayout<netobs_tcp_flow>.size else { return nil }
        let f = raw.loadUnaligned(as: netobs_tcp_flow.self)
        self.init(sock: f.sock, endpoints: Endpoints(f.ep), owner: Owner(f.owner))
        startNs = f.start_ns
        closedNs = f.closed_ns
        txBytes = f.tx_bytes
        rxBytes = f.rx_bytes
        retransmits = f.retransmits
        tlp = f.tlp
        drops = f.drops
        dropReasons = Self.reasons(low: f.drop_reasons.0, high: f.drop_reasons.1)
        srttUs = f.srtt_us
        rttSlotEpoch = f.rtt_slot_epoch
        rttMinUs = f.rtt_min_us
        rttMaxUs = f.rtt_max_us
        socketError = f.sk_err
        state = f.state
        exported = f.exported != 0
        transitionCount = f.transition_count
        transitionRing = withUnsafeBytes(of: f.transitions) { buf in
            buf.bindMemory(to: netobs_transition.self).map {
                StateTransition(tsNs: $0.ts_ns, oldStateNs: $0.old_state_ns,
                                oldState: $0.old_state, newState: $0.new_state)
            }
        }
    }

    public static func reasons(low: UInt64, high: UInt64) -> [UInt32] {
        (0..<128).compactMap { bit in
            let word = bit < 64 ? low : high
            return word & (1 << UInt64(bit & 63)) != 0 ? UInt32(bit) : nil
        }
    }
}

public struct UDPFlowSample: Sendable, Equatable {
    /// The map key bytes (socket + peer), to delete the flow when it expires.
    public var key: [UInt8]
    public var endpoints: Endpoints
    public var owner: Owner
    public var firstNs: UInt64
    public var lastNs: UInt64
    public var txBytes: UInt64
    public var rxBytes: UInt64
    public var txPackets: UInt64
    public var rxPackets: UInt64

    public init(key: [UInt8], endpoints: Endpoints, owner: Owner, firstNs: UInt64, lastNs: UInt64,
                txBytes: UInt64 = 0, rxBytes: UInt64 = 0, txPackets: UInt64 = 0, rxPackets: UInt64 = 0) {
        self.key = key
        self.endpoints = endpoints
        self.owner = owner
        self.firstNs = firstNs
        self.lastNs = lastNs
        self.txBytes = txBytes
        self.rxBytes = rxBytes
        self.txPackets = txPackets
        self.rxPackets = rxPackets
    }

    public init?(key: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer) {
        guard value.count >= MemoryLayout<netobs_udp_flow>.size else { return nil }
        let f = value.loadUnaligned(as: netobs_udp_flow.self)
        self.init(key: Array(key), endpoints: Endpoints(f.ep), owner: Owner(f.owner),
                  firstNs: f.first_ns, lastNs: f.last_ns, txBytes: f.tx_bytes, rxBytes: f.rx_bytes,
                  txPackets: f.tx_packets, rxPackets: f.rx_packets)
    }
}

private func bytes<T>(of value: T) -> [UInt8] {
    withUnsafeBytes(of: value) { Array($0) }
}
