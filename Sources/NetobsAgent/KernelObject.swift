/// The kernel objects an agent loads, each swappable on its own from a signed bundle whose name
/// is the object's.
public enum KernelObject: String, Sendable, CaseIterable {
    /// bpf/l4.bpf.c: TCP and UDP flows.
    case l4
    /// bpf/l7.bpf.c: HTTP, DNS and the request latency of any TCP protocol.
    case l7
}
