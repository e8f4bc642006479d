/// What every record shares: the node, and the clock to turn the kernel's monotonic
/// timestamps (bpf_ktime_get_ns) into unix nanoseconds.
public struct RecordContext: Sendable {
    public var node: String
    /// unix_ns - monotonic_ns, measured once at start.
    public var monotonicToUnixNs: Int64

    public init(node: String, monotonicToUnixNs: Int64) {
        self.node = node
        self.monotonicToUnixNs = monotonicToUnixNs
    }

    public func unixNs(monotonic: UInt64) -> UInt64 {
        UInt64(max(0, Int64(bitPattern: monotonic) &+ monotonicToUnixNs))
    }

    /// A record of `kind` with the contract's common fields for one socket.
    public func flowRecord(kind: String, monotonicNs: UInt64, endpoints: Endpoints, owner: Owner) -> Record {
        var r = Record(kind: kind)
        let local = IPAddress.format(endpoints.localAddr, ipVersion: endpoints.ipVersion)
        let remote = IPAddress.format(endpoints.remoteAddr, ipVersion: endpoints.ipVersion)
        r.set("ts_ns", .uint(unixNs(monotonic: monotonicNs)))
        r.set("node", .string(node))
        r.set("pid", .uint(UInt64(owner.pid)))
        r.set("comm", .string(owner.comm))
        r.set("cgroup_id", .uint(owner.cgroupID))
        r.set("netns", .uint(UInt64(endpoints.netns)))
        r.set("ip_version", .uint(UInt64(local.ipVersion)))
        r.set("src_ip", .string(local.text))
        r.set("src_port", .uint(UInt64(endpoints.localPort)))
        r.set("dst_ip", .string(remote.text))
        r.set("dst_port", .uint(UInt64(endpoints.remotePort)))
        r.set("role", .string(KernelNames.role(endpoints.role)))
        return r
    }
}
