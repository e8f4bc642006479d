/// A demo run's script: how long the load runs and which faults are injected when.
/// Times are nanoseconds from the moment the load generator starts.
public struct Scenario: Sendable, Equatable {
    public var durationNs: Int64
    public var faults: [Fault]
    /// Connections of the load generator (optional `load_connections`; nil: the command's default).
    public var loadConnections: Int?

    public init(durationNs: Int64, faults: [Fault], loadConnections: Int? = nil) {
        self.durationNs = durationNs
        self.faults = faults
        self.loadConnections = loadConnections
    }
}

/// One fault: `kind` on `namespace/pod` from `atNs` for `lengthNs`.
public struct Fault: Sendable, Equatable, CustomStringConvertible {
    public var atNs: Int64
    public var lengthNs: Int64
    public var pod: String
    public var namespace: String
    public var kind: FaultKind
    /// Line in the scenario file (1-based), for messages; 0 when not from a file.
    public var line: Int

    public init(atNs: Int64, lengthNs: Int64, pod: String, namespace: String = SockShop.appNamespace,
                kind: FaultKind, line: Int = 0) {
        self.atNs = atNs
        self.lengthNs = lengthNs
        self.pod = pod
        self.namespace = namespace
        self.kind = kind
        self.line = line
    }

    public var endNs: Int64 { atNs + lengthNs }

    public var description: String {
        "\(kind) on \(namespace)/\(pod) at \(DurationText.format(atNs)) for \(DurationText.format(lengthNs))"
    }
}

/// What is done to the pod (see FaultInjector for how).
public enum FaultKind: Sendable, Equatable, CustomStringConvertible {
    /// Drop `percent`% of the pod's packets, both directions.
    case loss(percent: Double)
    /// The service waits `ms` before answering each request.
    case delay(ms: Int)
    /// Answer `percent`% of the packets to the pod's serving port with a TCP reset.
    case reset(percent: Double)
    /// The pod's DNS names do not resolve (NXDOMAIN).
    case dns
    /// The pod's process is killed, and started again when the fault ends.
    case kill
    /// The pod's processes get `percent`% of one CPU (CFS quota of its cgroup).
    case cpu(percent: Double)
    /// Every packet between the pod and `peer` (a pod, `namespace/name` or a name in the
    /// fault's namespace) is dropped, both ways.
    case partition(peer: String, peerNamespace: String)
    /// What the pod sends is capped at `kbit` kbit/s (tbf on its eth0).
    case bandwidth(kbit: Int)

    public static let names = ["loss", "delay", "reset", "dns", "kill", "cpu", "partition", "bandwidth"]

    public var name: String {
        switch self {
        case .loss: return "loss"
        case .delay: return "delay"
        case .reset: return "reset"
        case .dns: return "dns"
        case .kill: return "kill"
        case .cpu: return "cpu"
        case .partition: return "partition"
        case .bandwidth: return "bandwidth"
        }
    }

    public var description: String {
        switch self {
        case .loss(let percent): return "loss \(percent.compact)%"
        case .delay(let ms): return "delay \(ms)ms"
        case .reset(let percent): return "reset \(percent.compact)%"
        case .dns: return "dns NXDOMAIN"
        case .kill: return "kill (restarted at the end)"
        case .cpu(let percent): return "cpu \(percent.compact)% of a core"
        case .partition(let peer, let namespace): return "partition from \(namespace)/\(peer)"
        case .bandwidth(let kbit): return "bandwidth \(kbit) kbit/s"
        }
    }

    /// The other pod a fault involves (a partition's peer), as (name, namespace).
    public var peer: (name: String, namespace: String)? {
        if case .partition(let peer, let namespace) = self { return (peer, namespace) }
        return nil
    }
}

extension Double {
    /// "30" rather than "30.0"; "2.5" stays.
    var compact: String { self == rounded() && abs(self) < 1e15 ? String(Int64(self)) : String(self) }
}
