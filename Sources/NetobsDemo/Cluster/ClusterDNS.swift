/// What makes the demo's names resolve: the hosts file kube-dns's dnsmasq serves and every
/// pod's resolv.conf (the kubelet's, with the pod's namespace first in the search list).
public enum ClusterDNS {
    /// `<ipv4> <name>.<namespace>.svc.cluster.local` per pod with a service, minus `hidden`
    /// (the pods under a DNS fault, which then get NXDOMAIN). IPv4 only: a single-stack
    /// cluster, so clients never pick an address family by chance.
    public static func hostsFile(_ pods: [DemoPod], hiding hidden: Set<String> = []) -> String {
        pods.filter { $0.component.role != .loadGenerator && !hidden.contains($0.component.fqdn) }
            .map { "\($0.ipv4) \($0.component.fqdn)\n" }
            .joined()
    }

    /// ndots:5 as in Kubernetes: "carts" is tried as carts.<namespace>.svc.cluster.local first.
    /// Short timeouts so that a lost DNS packet costs a second, not five.
    public static func resolvConf(namespace: String, nameserver: String) -> String {
        let domain = SockShop.clusterDomain
        return """
            # written by netobs demo (like the kubelet's resolv.conf for a pod)
            search \(namespace).svc.\(domain) svc.\(domain) \(domain)
            nameserver \(nameserver)
            options ndots:5 timeout:1 attempts:2

            """
    }

    /// dnsmasq in the foreground answering only from `hostsFile` (re-read at SIGHUP);
    /// everything else under cluster.local and every bare name is NXDOMAIN, and nothing is
    /// forwarded anywhere (--no-resolv, no servers).
    public static func dnsmasqArguments(listen ip: String, hostsFile: String) -> [String] {
        ["/usr/sbin/dnsmasq", "--keep-in-foreground", "--no-resolv", "--no-hosts", "--no-poll",
         "--addn-hosts=\(hostsFile)", "--local=/\(SockShop.clusterDomain)/", "--domain-needed",
         "--listen-address=\(ip)", "--bind-interfaces", "--port=53", "--user=root", "--pid-file",
         "--cache-size=0", "--log-facility=-"]
    }
}
