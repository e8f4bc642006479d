import Foundation
import NodeLab

/// Puts faults in place and takes them away, on the running cluster:
/// - loss:  iptables `statistic` DROP of `percent`% of the packets in and out of the pod's eth0;
/// - delay: the service sleeps `ms` before answering every request (its control file);
/// - reset: iptables REJECT --reject-with tcp-reset of `percent`% of the segments to the pod's
///          serving port (refused connects, torn-down connections);
/// - dns:   kube-dns answers NXDOMAIN for the pod's service name (dnsmasq's hosts file without it).
/// `stop` returns what the fault measurably did (packets dropped or reset by the rules).
struct FaultInjector {
    let cluster: DemoCluster

    func start(_ fault: Fault) throws {
        let pod = cluster.pod(fault.pod, namespace: fault.namespace)
        switch fault.kind {
        case .loss(let percent):
            try IptablesRules.loss(percent: percent).forEach { try pod.iptables($0.insert) }
        case .reset(let percent):
            try IptablesRules.reset(port: component(fault).port, percent: percent).forEach { try pod.iptables($0.insert) }
        case .delay(let ms):
            try cluster.setDelay(ms, service: fault.pod)
        case .dns:
            try cluster.hideNames(cluster.hiddenNames.union([component(fault).fqdn]))
        }
    }

    /// Removes the fault; returns its measured effect.
    func stop(_ fault: Fault) throws -> [String: Double] {
        let pod = cluster.pod(fault.pod, namespace: fault.namespace)
        switch fault.kind {
        case .loss(let percent):
            let rules = IptablesRules.loss(percent: percent)
            let dropped = try counted(rules, in: pod)
            try rules.forEach { try pod.iptables($0.delete) }
            return ["dropped_packets_in": Double(dropped[0]), "dropped_packets_out": Double(dropped[1])]
        case .reset(let percent):
            let rules = IptablesRules.reset(port: component(fault).port, percent: percent)
            let resets = try counted(rules, in: pod)
            try rules.forEach { try pod.iptables($0.delete) }
            return ["reset_packets": Double(resets[0])]
        case .delay:
            try cluster.setDelay(0, service: fault.pod)
            return [:]
        case .dns:
            try cluster.hideNames(cluster.hiddenNames.subtracting([component(fault).fqdn]))
            return [:]
        }
    }

    /// Packets each rule matched so far (per rule, in order).
    private func counted(_ rules: [IptablesRules.Rule], in pod: Pod) throws -> [UInt64] {
        try rules.map { rule in
            IptablesRules.packets(inListing: try pod.iptables(["-L", rule.chain, "-v", "-x", "-n"]))
        }
    }

    private func component(_ fault: Fault) -> SockShop.Component {
        SockShop.component(fault.pod, namespace: fault.namespace)!
    }
}
